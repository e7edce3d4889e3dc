package org.postilion.shell;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.KumoListEntries;
import org.postilion.api.json.Json;

@Service
@Command(scope = "mta", name = "suspend-list", description = "The suspensions in force")
public class SuspendListCommand extends AdminCommand {

  @Option(
      name = "--json",
      description =
          "Print JSON as KumoMTA's admin API and kcli list them: SuspendV1ListEntry,"
              + " SuspendReadyQueueV1ListEntry (ready queues), BounceV1ListEntry (bounce-list)")
  boolean json;

  @Override
  Object run() {
    print(admin.suspensions(), "no suspensions");
    return null;
  }

  /** An action as KumoMTA lists it. */
  Map<String, Object> kumoEntry(AdminAction action, Instant now) {
    return action.kind() == AdminAction.Kind.SUSPEND_READY
        ? KumoListEntries.suspendReady(action, now)
        : KumoListEntries.suspend(action, now);
  }

  void print(List<AdminAction> actions, String none) {
    if (json) {
      Instant now = Instant.now();
      out().println(Json.write(actions.stream().map(a -> kumoEntry(a, now)).toList()));
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
