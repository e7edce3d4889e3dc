package org.postilion.shell;

import java.util.List;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.json.Json;

@Service
@Command(scope = "mta", name = "suspend-list", description = "The suspensions in force")
public class SuspendListCommand extends AdminCommand {

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  @Override
  Object run() {
    print(admin.suspensions(), "no suspensions");
    return null;
  }

  void print(List<AdminAction> actions, String none) {
    if (json) {
      out().println(Json.write(actions));
      return;
    }
    ShellTable table = new ShellTable().emptyTableText(none);
    table.column("Id");
    table.column("Target");
    table.column("Reason");
    table.column("Created");
    table.column("Expires");
    for (AdminAction a : actions) {
      table
          .addRow()
          .addContent(
              a.id(),
              a.target(),
              a.reason() == null ? "" : a.reason(),
              Views.time(a.created()),
              a.expires() == null ? "never" : Views.time(a.expires()));
    }
    table.print(out());
  }
}
