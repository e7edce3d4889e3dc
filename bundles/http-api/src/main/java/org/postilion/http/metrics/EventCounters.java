package org.postilion.http.metrics;

import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.postilion.api.event.EventRecord;

/**
 * Message counters with KumoMTA's names, moved by each event record as it happens. A counter is a
 * metric name plus one label; {@link #write} renders them in Prometheus text format.
 */
final class EventCounters {
  private final Map<Series, LongAdder> counters = new ConcurrentHashMap<>();

  record Series(String metric, String label, String value) {
    static final Comparator<Series> ORDER =
        Comparator.comparing(Series::metric)
            .thenComparing(Series::label)
            .thenComparing(Series::value);
  }

  void count(EventRecord record) {
    switch (record.type()) {
      case RECEPTION -> add("total_messages_received", "service", listenerOf(record));
      case DELIVERY -> outcome("total_messages_delivered", record);
      case TRANSIENT_FAILURE -> outcome("total_messages_transfail", record);
      case BOUNCE, EXPIRATION, ADMIN_BOUNCE -> outcome("total_messages_fail", record);
      case REJECTION -> add("total_messages_rejected", "service", listenerOf(record));
      default -> {
        // Delayed and rebind records are not outcomes.
      }
    }
  }

  private void outcome(String metric, EventRecord record) {
    add(metric, "service", service(record.deliveryProtocol()));
    if (record.queue() != null) {
      add(metric + "_by_queue", "queue", record.queue());
    }
  }

  /**
   * KumoMTA's protocol name in metrics: {@code smtp_client} for SMTP (named {@code ESMTP} in
   * records, {@code smtp} as a service), {@code maildir}; other protocols by their name, lower
   * case; {@code admin} for mail an operator ended.
   */
  static String service(String protocol) {
    if (protocol == null) {
      return "admin";
    }
    return switch (protocol) {
      case "ESMTP", "smtp" -> "smtp_client";
      default -> protocol.toLowerCase(Locale.ROOT);
    };
  }

  private static String listenerOf(EventRecord record) {
    String protocol =
        record.receptionProtocol() == null
            ? ""
            : record.receptionProtocol().toUpperCase(Locale.ROOT);
    return protocol.startsWith("HTTP") ? "http_listener" : "esmtp_listener";
  }

  private void add(String metric, String label, String value) {
    counters.computeIfAbsent(new Series(metric, label, value), s -> new LongAdder()).increment();
  }

  private Map<Series, LongAdder> sorted() {
    Map<Series, LongAdder> sorted = new TreeMap<>(Series.ORDER);
    sorted.putAll(counters);
    return sorted;
  }

  /** The counters, sorted, as Prometheus text; each metric family once with its type line. */
  void write(PrometheusText out) {
    String family = null;
    for (Map.Entry<Series, LongAdder> counter : sorted().entrySet()) {
      Series series = counter.getKey();
      if (!series.metric().equals(family)) {
        family = series.metric();
        out.type(family, "counter");
      }
      out.sample(family, Map.of(series.label(), series.value()), counter.getValue().sum());
    }
  }
}
