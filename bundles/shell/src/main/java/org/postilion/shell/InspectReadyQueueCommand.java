package org.postilion.shell;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.ReadyQueueDetails;
import org.postilion.api.admin.ReadyQueueSession;
import org.postilion.api.json.Json;
import org.postilion.api.shaping.ShapingSettings;

@Service
@Command(
    scope = "mta",
    name = "inspect-ready-q",
    description =
        "One ready queue: waiting mail, the limits in force and each session (phase, age,"
            + " messages); as KumoMTA's kcli inspect-ready-q")
public class InspectReadyQueueCommand extends AdminCommand {

  @Argument(index = 0, name = "name", description = "The ready queue, source->site@protocol")
  @Completion(IdCompleters.ReadyQueues.class)
  String name;

  @Option(name = "--json", description = "Print JSON instead of tables")
  boolean json;

  @Override
  Object run() {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("name a ready queue (mta:queue-summary lists them)");
    }
    ReadyQueueDetails details =
        admin
            .readyQueue(name)
            .orElseThrow(() -> new IllegalArgumentException("no ready queue " + name + " now"));
    if (json) {
      out().println(Json.write(details));
      return null;
    }
    ShapingSettings limits = details.shaping();
    out().println("Ready queue:  " + details.status().name());
    out().println("Site:         " + details.status().site());
    out().println("Source/pool:  " + details.status().source() + " / " + details.egressPool());
    out()
        .println(
            "Waiting:      "
                + details.status().ready()
                + " of max_ready "
                + limits.maxReady()
                + (details.status().suspended() ? " (suspended)" : ""));
    out()
        .println(
            "Sessions:     "
                + details.status().connections()
                + " of connection_limit "
                + limits.connectionLimit()
                + (details.connectionLimitedSince() == null
                    ? ""
                    : ", at the limit since " + Views.time(details.connectionLimitedSince())));
    out()
        .println(
            "Rates:        max_message_rate "
                + (limits.maxMessageRate() == null ? "none" : limits.maxMessageRate())
                + ", max_connection_rate "
                + (limits.maxConnectionRate() == null ? "none" : limits.maxConnectionRate()));
    out().println();
    ShellTable sessions = new ShellTable().emptyTableText("no sessions");
    sessions.column("Session");
    sessions.column("Started");
    sessions.column("Phase");
    sessions.column("Since");
    sessions.column("Delivered").alignRight();
    sessions.column("Transfailed").alignRight();
    sessions.column("Failed").alignRight();
    for (ReadyQueueSession s : details.sessions()) {
      sessions
          .addRow()
          .addContent(
              s.sessionId(),
              Views.time(s.startedAt()),
              s.phase(),
              Views.time(s.phaseSince()),
              s.delivered(),
              s.transfailed(),
              s.failed());
    }
    sessions.print(out());
    return null;
  }
}
