package org.postilion.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prometheus.metrics.core.metrics.Gauge;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postilion.api.metrics.MetricSet;

/** The shell's live views read the registry /metrics serves, as kcli reads /metrics. */
class MetricsViewTest {
  private final MetricSet set = new MetricSet();

  @AfterEach
  void close() {
    set.close();
  }

  @Test
  void providerSummaryRowsAreOrderedByVolume() {
    Gauge delivered = set.kumoCounter("total_messages_delivered_by_provider", "d", "provider");
    Gauge failed = set.kumoCounter("total_messages_fail_by_provider", "f", "provider");
    Gauge queued = set.gauge("queued_count_by_provider", "q", "provider");
    Gauge connections = set.gauge("connection_count_by_provider", "c", "provider");
    delivered.labelValues("google").inc(5);
    failed.labelValues("google").inc(1);
    connections.labelValues("google").set(2);
    delivered.labelValues("mx.example.com:25").inc(2);
    queued.labelValues("mx.example.com:25").set(10);
    List<ProviderSummaryCommand.ProviderRow> rows =
        ProviderSummaryCommand.rows(MetricsView.read(ProviderSummaryCommand.METRICS));
    assertEquals(
        List.of(
            new ProviderSummaryCommand.ProviderRow("mx.example.com:25", 2, 0, 0, 0, 10),
            new ProviderSummaryCommand.ProviderRow("google", 5, 0, 1, 2, 0)),
        rows);
  }

  @Test
  void topRatesCountRollupsOnlyAndSplitConnectionsByDirection() {
    Gauge delivered = set.kumoCounter("total_messages_delivered", "d", "service");
    Gauge connections = set.gauge("connection_count", "c", "service");
    Gauge ready = set.gauge("ready_count", "r", "service");
    delivered.labelValues("smtp_client").inc(10);
    delivered.labelValues("smtp_client:ip1->mx@smtp_client").inc(10);
    connections.labelValues("smtp_client:ip1->mx@smtp_client").set(3);
    connections.labelValues("esmtp_listener:default").set(7);
    ready.labelValues("smtp_client:ip1->mx@smtp_client").set(4);
    var names = java.util.Set.of("total_messages_delivered", "connection_count", "ready_count");
    TopCommand.Totals before = TopCommand.totals(MetricsView.read(names), 0);
    delivered.labelValues("smtp_client").inc(20);
    delivered.labelValues("smtp_client:ip1->mx@smtp_client").inc(20);
    MetricsView now = MetricsView.read(names);
    TopCommand.Line line = TopCommand.line(before, TopCommand.totals(now, 2_000_000_000L), now);
    assertEquals(10.0, line.deliveredPerSecond(), "20 more over 2 s, rollup only");
    assertEquals(4, line.ready());
    assertEquals(3, line.connectionsOut());
    assertEquals(7, line.connectionsIn());
  }
}
