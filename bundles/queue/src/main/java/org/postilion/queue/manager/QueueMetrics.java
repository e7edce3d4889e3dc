package org.postilion.queue.manager;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.postilion.api.metrics.MetricSet;
import org.postilion.api.metrics.Providers;
import org.postilion.api.metrics.ServiceNames;

/**
 * What the queue manager counts, under KumoMTA's metric names and labels: messages received,
 * delivered, failed and transiently failed, as a rollup per protocol ({@code
 * service="smtp_client"}), per ready queue ({@code service="smtp_client:source->site@smtp_client"},
 * what kcli queue-summary reads), per mailbox provider and per provider and egress source; the time
 * each delivery takes ({@code deliver_message_latency_rollup}). Ours: the same outcomes per
 * scheduled queue ({@code *_by_queue}) and how long messages stayed queued ({@code
 * queue_residence_seconds}).
 *
 * <p>Counted from the event records on the bus's own thread, so delivery never waits for it. Series
 * of a queue or provider not moved for {@link #IDLE} are removed (and start again from zero), as
 * KumoMTA prunes them, so a server that saw a million sites keeps only the active ones.
 */
final class QueueMetrics implements EventListener, AutoCloseable {
  static final Duration IDLE = Duration.ofHours(1);

  /** Queue residence: seconds to days. */
  private static final double[] RESIDENCE_BUCKETS = {
    1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400
  };

  private final MetricSet set;
  private final Supplier<Providers> providers;
  private final LongSupplier nanos;

  private final Gauge received;
  private final Gauge rejected;
  private final Outcome delivered;
  private final Outcome transfail;
  private final Outcome fail;
  private final Histogram deliverLatency;
  private final Histogram residence;
  private final Histogram saveLatency;
  private final Gauge connections;
  private final Gauge readyFull;
  private final Gauge delayedReadyFull;

  /** Pruned series: the metric and its label values, to when they last moved. */
  private final Map<Series, Long> touched = new ConcurrentHashMap<>();

  private long lastPrune;

  private record Series(Gauge gauge, List<String> labels) {}

  /** One outcome's families. */
  private record Outcome(
      Gauge byService, Gauge byQueue, Gauge byProvider, Gauge byProviderAndSource) {}

  QueueMetrics(Supplier<Providers> providers, LongSupplier nanos) {
    this(providers, nanos, PrometheusRegistry.defaultRegistry);
  }

  QueueMetrics(Supplier<Providers> providers, LongSupplier nanos, PrometheusRegistry registry) {
    this.set = new MetricSet(registry);
    this.providers = providers;
    this.nanos = nanos;
    this.lastPrune = nanos.getAsLong();
    received =
        set.kumoCounter(
            "total_messages_received", "total number of messages ever received", "service");
    rejected =
        set.kumoCounter(
            "total_messages_rejected",
            "total number of messages refused at reception (ours)",
            "service");
    delivered = outcome("delivered", "total number of messages ever delivered");
    transfail =
        outcome("transfail", "total number of message delivery attempts that transiently failed");
    fail = outcome("fail", "total number of message delivery attempts that permanently failed");
    deliverLatency =
        set.latency(
            "deliver_message_latency_rollup",
            "how many seconds a deliver_message call takes for a given protocol",
            "service");
    saveLatency =
        set.latency("message_save_latency", "How many seconds it takes to save a message to spool");
    connections =
        set.kumoCounter(
            "total_connection_count", "total number of active connections ever made", "service");
    readyFull =
        set.kumoCounter(
            "ready_full", "number of times a message could not fit in the ready queue", "service");
    delayedReadyFull =
        set.kumoCounter(
            "delayed_due_to_ready_queue_full",
            "Number of times a message was delayed due to the corresponding ready queue being full",
            "queue");
    residence =
        set.histogram(
            "queue_residence_seconds",
            "seconds from reception to a message's final outcome, per protocol (ours)",
            RESIDENCE_BUCKETS,
            "service");
  }

  private Outcome outcome(String what, String help) {
    String name = "total_messages_" + what;
    return new Outcome(
        set.kumoCounter(name, help, "service"),
        set.kumoCounter(name + "_by_queue", help + ", per scheduled queue (ours)", "queue"),
        set.kumoCounter(name + "_by_provider", help, "provider"),
        set.kumoCounter(name + "_by_provider_and_source", help, "pool", "provider", "source"));
  }

  /** A message was saved in the spool in {@code took} nanoseconds. */
  void saved(long took) {
    saveLatency.observe(took / 1e9);
  }

  /** A session of the ready queue opened: counted for its protocol and for the queue. */
  void connectionOpened(ReadyQueueKey key) {
    String service = ServiceNames.of(key.protocol());
    connections.labelValues(service).inc();
    touch(connections, service + ":" + key.name());
  }

  /** A message of the scheduled queue did not fit in the ready queue and waits in its own. */
  void readyFull(ReadyQueueKey key, String queue) {
    touch(readyFull, ServiceNames.of(key.protocol()) + ":" + key.name());
    touch(delayedReadyFull, queue);
  }

  /** One delivery over a session took {@code took} nanoseconds. */
  void delivered(String protocol, long took) {
    deliverLatency.labelValues(ServiceNames.of(protocol)).observe(took / 1e9);
  }

  @Override
  public void onEvent(EventRecord record) {
    switch (record.type()) {
      case RECEPTION -> received.labelValues(listenerOf(record)).inc();
      case REJECTION -> rejected.labelValues(listenerOf(record)).inc();
      case DELIVERY -> outcome(delivered, record, true);
      case TRANSIENT_FAILURE -> outcome(transfail, record, false);
      case BOUNCE, EXPIRATION, ADMIN_BOUNCE -> outcome(fail, record, true);
      default -> {
        // Delayed, OOB, feedback and the like are not outcomes of an attempt.
      }
    }
    prune();
  }

  private void outcome(Outcome outcome, EventRecord record, boolean last) {
    String service = ServiceNames.of(record.deliveryProtocol());
    outcome.byService().labelValues(service).inc();
    String site = record.site();
    if (site != null && !site.isEmpty()) {
      String source = record.egressSource() == null ? "" : record.egressSource();
      String pool = record.egressPool() == null ? "" : record.egressPool();
      touch(outcome.byService(), service + ":" + source + "->" + site + "@" + service);
      Providers table = providers.get();
      String provider = table == null ? site : table.provider(site);
      touch(outcome.byProvider(), provider);
      touch(outcome.byProviderAndSource(), pool, provider, source);
    }
    if (record.queue() != null) {
      touch(outcome.byQueue(), record.queue());
    }
    if (last && record.created() != null && record.timestamp() != null) {
      double seconds = Duration.between(record.created(), record.timestamp()).toMillis() / 1e3;
      residence.labelValues(service).observe(Math.max(0, seconds));
    }
  }

  private void touch(Gauge gauge, String... labels) {
    gauge.labelValues(labels).inc();
    touched.put(new Series(gauge, Arrays.asList(labels)), nanos.getAsLong());
  }

  /**
   * At most once a minute, removes the series idle for an hour. Runs on the bus thread; the other
   * threads that touch series (sessions opening, full ready queues) only refresh stamps, and a
   * series is removed only if its stamp is still the idle one it was judged by.
   */
  private void prune() {
    long now = nanos.getAsLong();
    if (now - lastPrune < Duration.ofMinutes(1).toNanos()) {
      return;
    }
    lastPrune = now;
    long idle = IDLE.toNanos();
    for (Map.Entry<Series, Long> entry : touched.entrySet()) {
      long stamp = entry.getValue();
      if (now - stamp >= idle && touched.remove(entry.getKey(), stamp)) {
        entry.getKey().gauge().remove(entry.getKey().labels().toArray(String[]::new));
      }
    }
  }

  private static String listenerOf(EventRecord record) {
    String protocol =
        record.receptionProtocol() == null
            ? ""
            : record.receptionProtocol().toUpperCase(Locale.ROOT);
    return protocol.startsWith("HTTP") ? "http_listener" : "esmtp_listener";
  }

  @Override
  public void close() {
    set.close();
  }
}
