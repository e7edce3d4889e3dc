package org.postilion.shell;

import java.util.List;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.XferStatus;
import org.postilion.api.json.Json;

/** The xfers of this run of the server and how far each got. */
@Service
@Command(
    scope = "mta",
    name = "xfer-list",
    description = "The xfers since the server started: target, state and recipients moved")
public class XferListCommand extends AdminCommand {

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  @Override
  Object run() {
    List<XferStatus> xfers = admin.xfers();
    if (json) {
      out().println(Json.write(xfers));
      return null;
    }
    ShellTable table = new ShellTable().emptyTableText("no xfers since the server started");
    table.column("Name");
    table.column("State");
    table.column("Started");
    table.column("Taken").alignRight();
    table.column("Transferred").alignRight();
    table.column("Returned").alignRight();
    table.column("Last error").maxSize(60).wrap();
    for (XferStatus x : xfers) {
      table
          .addRow()
          .addContent(
              x.name(),
              x.state(),
              x.started(),
              x.taken(),
              x.transferred(),
              x.returned(),
              x.lastError() == null ? "" : x.lastError());
    }
    table.print(out());
    return null;
  }
}
