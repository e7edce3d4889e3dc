package org.postilion.shell;

import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.MessageDetails;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.json.Json;

@Service
@Command(
    scope = "mta",
    name = "message-show",
    description = "A queued message: envelope, headers, queues, attempts and last responses")
public class MessageShowCommand extends AdminCommand {

  @Argument(index = 0, name = "id", description = "Message id", required = true)
  @Completion(IdCompleters.Messages.class)
  String id;

  @Option(name = "--json", description = "Print JSON")
  boolean json;

  @Override
  Object run() {
    MessageDetails message =
        admin
            .message(id)
            .orElseThrow(() -> new IllegalArgumentException("no message " + id + " is queued"));
    if (json) {
      // The admin API's inspect-message, field for field.
      out().println(Json.write(message));
      return null;
    }
    PrintStream out = out();
    out.println("Id:        " + message.id());
    out.println("Sender:    <" + message.sender() + ">");
    out.println(
        "Received:  " + Views.time(message.created()) + " over " + message.receptionProtocol());
    out.println("Size:      " + message.size());
    out.println("Tenant:    " + (message.tenant() == null ? "" : message.tenant()));
    out.println("Campaign:  " + (message.campaign() == null ? "" : message.campaign()));
    out.println();
    ShellTable table = new ShellTable();
    table.column("Recipient");
    table.column("Queue");
    table.column("Attempts").alignRight();
    table.column("Due");
    table.column("State");
    table.column("Last response");
    for (QueuedRecipient r : message.recipients()) {
      table
          .addRow()
          .addContent(
              r.recipient(),
              r.queue(),
              r.attempts(),
              Views.time(r.due()),
              r.state(),
              r.lastResponse() == null ? "" : r.lastResponse());
    }
    table.print(out);
    out.println();
    out.print(message.headers().replace("\r\n", "\n"));
    return null;
  }
}
