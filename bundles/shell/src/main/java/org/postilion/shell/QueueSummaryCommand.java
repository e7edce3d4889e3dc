package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.QueueSummary;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.json.Json;

@Service
@Command(
    scope = "mta",
    name = "queue-summary",
    description = "Scheduled queues (count, oldest, next due) and ready queues per site")
public class QueueSummaryCommand extends AdminCommand {

  @Option(name = "--json", description = "Print JSON instead of tables")
  boolean json;

  @Override
  Object run() {
    QueueSummary summary = admin.summary();
    if (json) {
      // The admin API's queue-summary, field for field.
      out().println(Json.write(summary));
      return null;
    }
    ShellTable scheduled = new ShellTable().emptyTableText("no queued mail");
    scheduled.column("Queue");
    scheduled.column("Protocol");
    scheduled.column("Count").alignRight();
    scheduled.column("In delivery").alignRight();
    scheduled.column("Oldest");
    scheduled.column("Next due");
    scheduled.column("State");
    for (ScheduledQueueStatus q : summary.scheduled()) {
      scheduled
          .addRow()
          .addContent(
              q.name(),
              q.protocol(),
              q.recipients(),
              q.inDelivery(),
              Views.time(q.oldest()),
              Views.time(q.nextDue()),
              q.state());
    }
    scheduled.print(out());
    out().println();
    ShellTable ready = new ShellTable().emptyTableText("no ready queues");
    ready.column("Ready queue");
    ready.column("Site");
    ready.column("Source");
    ready.column("Ready").alignRight();
    ready.column("Connections").alignRight();
    ready.column("Suspended");
    for (ReadyQueueStatus r : summary.ready()) {
      ready
          .addRow()
          .addContent(
              r.name(),
              r.site(),
              r.source(),
              r.ready(),
              r.connections(),
              r.suspended() ? "yes" : "no");
    }
    ready.print(out());
    return null;
  }
}
