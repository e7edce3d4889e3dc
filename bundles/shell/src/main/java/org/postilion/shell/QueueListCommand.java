package org.postilion.shell;

import java.util.List;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.json.Json;

@Service
@Command(
    scope = "mta",
    name = "queue-list",
    description = "Queued recipients, oldest first, of all queues or the chosen ones")
public class QueueListCommand extends SelectorCommand {

  @Option(name = "--limit", description = "Show at most this many (default 100)")
  int limit = 100;

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  @Override
  Object run() {
    List<QueuedRecipient> found = admin.list(hasSelector() ? selector() : null, limit);
    if (json) {
      out().println(Json.write(found));
      return null;
    }
    ShellTable table = new ShellTable().emptyTableText("no queued mail matches");
    table.column("Id");
    table.column("Recipient");
    table.column("Queue");
    table.column("Attempts").alignRight();
    table.column("Due");
    table.column("State");
    for (QueuedRecipient r : found) {
      table
          .addRow()
          .addContent(
              r.messageId(),
              r.recipient(),
              r.queue(),
              r.attempts(),
              Views.time(r.due()),
              r.state());
    }
    table.print(out());
    return null;
  }
}
