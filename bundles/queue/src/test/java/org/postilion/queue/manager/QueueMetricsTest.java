package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.metrics.ProviderTable;

class QueueMetricsTest {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final AtomicLong nanos = new AtomicLong();
  private final ProviderTable providers = ProviderTable.of(Map.of("google", ".google.com"));
  private final QueueMetrics metrics =
      new QueueMetrics(() -> providers::provider, nanos::get, registry);

  @AfterEach
  void close() {
    metrics.close();
  }

  private static EventRecord outcome(EventType type, String site, Instant created) {
    return EventRecord.builder(type)
        .id("m1")
        .recipient("r@example.com")
        .queue("spring:shop@example.com")
        .site(site)
        .egressSource("ip1")
        .egressPool("pool1")
        .deliveryProtocol("ESMTP")
        .created(created)
        .timestamp(created.plusSeconds(30))
        .build();
  }

  private String text() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void outcomesAreCountedUnderKumoNamesPerServiceReadyQueueAndProvider() throws IOException {
    Instant created = Instant.parse("2026-12-01T10:00:00Z");
    String gmail = "aspmx.l.google.com:25";
    metrics.onEvent(outcome(EventType.DELIVERY, gmail, created));
    metrics.onEvent(outcome(EventType.DELIVERY, gmail, created));
    metrics.onEvent(outcome(EventType.TRANSIENT_FAILURE, "mx.example.com:25", created));
    metrics.onEvent(outcome(EventType.BOUNCE, "mx.example.com:25", created));
    metrics.delivered("smtp", Duration.ofMillis(20).toNanos());
    ReadyQueueKey key = new ReadyQueueKey("smtp", gmail, "", "ip1");
    metrics.connectionOpened(key);
    metrics.readyFull(key, "spring:shop@example.com");
    String text = text();
    assertTrue(text.contains("total_connection_count{service=\"smtp_client\"} 1.0"), text);
    assertTrue(
        text.contains("ready_full{service=\"smtp_client:ip1->" + gmail + "@smtp_client\"} 1.0"),
        text);
    assertTrue(
        text.contains("delayed_due_to_ready_queue_full{queue=\"spring:shop@example.com\"} 1.0"),
        text);
    assertTrue(text.contains("# TYPE total_messages_delivered gauge"), text);
    assertTrue(text.contains("total_messages_delivered{service=\"smtp_client\"} 2.0"), text);
    assertTrue(
        text.contains(
            "total_messages_delivered{service=\"smtp_client:ip1->" + gmail + "@smtp_client\"} 2.0"),
        text);
    assertTrue(
        text.contains("total_messages_delivered_by_provider{provider=\"google\"} 2.0"), text);
    assertTrue(
        text.contains(
            "total_messages_delivered_by_provider_and_source{pool=\"pool1\",provider=\"google\",source=\"ip1\"} 2.0"),
        text);
    assertTrue(
        text.contains("total_messages_transfail_by_provider{provider=\"mx.example.com:25\"} 1.0"),
        text);
    assertTrue(text.contains("total_messages_fail{service=\"smtp_client\"} 1.0"), text);
    assertTrue(
        text.contains("total_messages_fail_by_queue{queue=\"spring:shop@example.com\"} 1.0"), text);
    // A final outcome's time in the queue (30 s here); a transient failure is not final.
    assertTrue(text.contains("queue_residence_seconds_count{service=\"smtp_client\"} 3"), text);
    assertTrue(
        text.contains("queue_residence_seconds_bucket{service=\"smtp_client\",le=\"15.0\"} 0"),
        text);
    assertTrue(
        text.contains("queue_residence_seconds_bucket{service=\"smtp_client\",le=\"60.0\"} 3"),
        text);
    assertTrue(
        text.contains(
            "deliver_message_latency_rollup_bucket{service=\"smtp_client\",le=\"0.025\"} 1"),
        text);
    assertTrue(
        text.contains(
            "deliver_message_latency_rollup_bucket{service=\"smtp_client\",le=\"0.01\"} 0"),
        text);
  }

  @Test
  void seriesIdleForAnHourArePrunedAndTheRollupStays() throws IOException {
    Instant created = Instant.parse("2026-12-01T10:00:00Z");
    metrics.onEvent(outcome(EventType.DELIVERY, "mx.old.example:25", created));
    nanos.addAndGet(Duration.ofMinutes(30).toNanos());
    metrics.onEvent(outcome(EventType.DELIVERY, "mx.new.example:25", created));
    assertTrue(text().contains("provider=\"mx.old.example:25\""), "not idle long enough yet");
    nanos.addAndGet(Duration.ofMinutes(31).toNanos());
    metrics.onEvent(outcome(EventType.DELIVERY, "mx.new.example:25", created));
    String text = text();
    assertTrue(!text.contains("mx.old.example"), text);
    assertTrue(
        text.contains("total_messages_delivered_by_provider{provider=\"mx.new.example:25\"} 2.0"),
        text);
    assertEquals(
        true, text.contains("total_messages_delivered{service=\"smtp_client\"} 3.0"), text);
  }
}
