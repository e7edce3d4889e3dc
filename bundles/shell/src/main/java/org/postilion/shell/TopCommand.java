package org.postilion.shell;

import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.json.Json;

/**
 * Live counts, one line per interval as {@code vmstat} prints them (KumoMTA's {@code kcli top} in a
 * form that also works through {@code bin/client} and in logs): messages received, delivered,
 * transiently failed and failed per second over the interval, and recipients scheduled and ready,
 * outgoing and incoming connections now. Read from the metrics {@code /metrics} serves. Runs until
 * {@code --count} lines are printed or Ctrl-C.
 */
@Service
@Command(
    scope = "mta",
    name = "top",
    description = "Live message rates, queue sizes and connections, one line per interval")
public class TopCommand extends AdminCommand {
  private static final Set<String> METRICS =
      Set.of(
          "total_messages_received",
          "total_messages_delivered",
          "total_messages_transfail",
          "total_messages_fail",
          "scheduled_count",
          "ready_count",
          "connection_count");
  private static final String LISTENER = "esmtp_listener";
  private static final String HEADER =
      String.format(
          "%-8s %9s %9s %9s %9s %10s %10s %8s %8s",
          "time",
          "recv/s",
          "deliv/s",
          "tfail/s",
          "fail/s",
          "scheduled",
          "ready",
          "conn-out",
          "conn-in");

  @Option(name = "--interval", description = "Time between lines, e.g. 1s (default), 500ms, 1m")
  String interval = "1s";

  @Option(name = "--count", description = "Lines to print, then stop (default: until Ctrl-C)")
  int count;

  @Option(name = "--json", description = "Print each line as a JSON object")
  boolean json;

  /** What one line shows. */
  record Line(
      String time,
      double receivedPerSecond,
      double deliveredPerSecond,
      double transfailPerSecond,
      double failedPerSecond,
      long scheduled,
      long ready,
      long connectionsOut,
      long connectionsIn) {}

  /** The counters' totals at one moment. */
  record Totals(long nanos, double received, double delivered, double transfail, double failed) {}

  @Override
  Object run() throws InterruptedException {
    Duration every = Views.duration(interval, "--interval");
    if (every == null || every.toMillis() < 100 || every.toHours() > 24) {
      throw new IllegalArgumentException("--interval must be from 100ms to 24h: " + interval);
    }
    if (count < 0) {
      throw new IllegalArgumentException("--count must be 0 (until Ctrl-C) or more: " + count);
    }
    Totals previous = totals(MetricsView.read(METRICS), System.nanoTime());
    if (!json) {
      out().println(HEADER);
    }
    for (int printed = 0; count == 0 || printed < count; printed++) {
      Thread.sleep(every.toMillis());
      MetricsView view = MetricsView.read(METRICS);
      Totals now = totals(view, System.nanoTime());
      Line line = line(previous, now, view);
      previous = now;
      out().println(json ? Json.write(line) : format(line));
      out().flush();
    }
    return null;
  }

  /** Rollup counters only (service without a ':'), so that ready queues are not counted twice. */
  static Totals totals(MetricsView view, long nanos) {
    return new Totals(
        nanos,
        view.sum("total_messages_received", s -> true),
        view.sum("total_messages_delivered", TopCommand::rollup),
        view.sum("total_messages_transfail", TopCommand::rollup),
        view.sum("total_messages_fail", TopCommand::rollup));
  }

  private static boolean rollup(MetricsView.Sample sample) {
    return !sample.label("service").contains(":");
  }

  static Line line(Totals before, Totals after, MetricsView view) {
    double seconds = Math.max(1e-3, (after.nanos() - before.nanos()) / 1e9);
    return new Line(
        LocalTime.now().truncatedTo(ChronoUnit.SECONDS).toString(),
        rate(after.received() - before.received(), seconds),
        rate(after.delivered() - before.delivered(), seconds),
        rate(after.transfail() - before.transfail(), seconds),
        rate(after.failed() - before.failed(), seconds),
        (long) view.sum("scheduled_count", s -> true),
        (long) view.sum("ready_count", s -> true),
        (long) view.sum("connection_count", s -> !s.label("service").startsWith(LISTENER)),
        (long) view.sum("connection_count", s -> s.label("service").startsWith(LISTENER)));
  }

  /** Per second, one decimal; a counter that went back (pruned, restarted) counts as 0. */
  private static double rate(double delta, double seconds) {
    return Math.round(Math.max(0, delta) / seconds * 10) / 10.0;
  }

  private static String format(Line line) {
    return String.format(
        "%-8s %9.1f %9.1f %9.1f %9.1f %10d %10d %8d %8d",
        line.time(),
        line.receivedPerSecond(),
        line.deliveredPerSecond(),
        line.transfailPerSecond(),
        line.failedPerSecond(),
        line.scheduled(),
        line.ready(),
        line.connectionsOut(),
        line.connectionsIn());
  }
}
