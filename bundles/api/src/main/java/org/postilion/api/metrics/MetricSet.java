package org.postilion.api.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The metrics one component records into Prometheus's default registry (the one {@code /metrics}
 * serves), given back together when the component stops. A metric is shared by name: every
 * component asking for {@code smtpsrv_transaction_duration} (one per SMTP listener, say) records
 * into the same one, and it leaves the registry when the last of them closes its set. Exemplars are
 * off: they need the client's tracer bundles, and nothing here traces.
 */
public final class MetricSet implements AutoCloseable {

  /**
   * KumoMTA's latency buckets, in seconds (its histograms all use these, and they are the
   * Prometheus client's defaults).
   */
  public static final double[] LATENCY_BUCKETS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
  };

  private static final Map<String, Shared> SHARED = new HashMap<>();

  private record Shared(Object metric, Runnable unregister, int[] users) {}

  private final PrometheusRegistry registry;
  private final List<String> held = new ArrayList<>();

  public MetricSet() {
    this(PrometheusRegistry.defaultRegistry);
  }

  public MetricSet(PrometheusRegistry registry) {
    this.registry = registry;
  }

  /** A histogram of seconds with KumoMTA's buckets (classic buckets only, as it exports them). */
  public Histogram latency(String name, String help, String... labelNames) {
    return shared(
        name,
        () ->
            Histogram.builder()
                .name(name)
                .help(help)
                .labelNames(labelNames)
                .classicOnly()
                .classicUpperBounds(LATENCY_BUCKETS)
                .withoutExemplars()
                .build());
  }

  /** A histogram with buckets of its own (classic buckets only). */
  public Histogram histogram(String name, String help, double[] buckets, String... labelNames) {
    return shared(
        name,
        () ->
            Histogram.builder()
                .name(name)
                .help(help)
                .labelNames(labelNames)
                .classicOnly()
                .classicUpperBounds(buckets)
                .withoutExemplars()
                .build());
  }

  /**
   * One of KumoMTA's counters, which are named without Prometheus's {@code _total} suffix ({@code
   * total_messages_delivered}). The Prometheus Java client writes every counter with that suffix,
   * and kcli and KumoMTA dashboards look the names up exactly, so these go out as gauges that only
   * ever go up ({@link Gauge#inc()}), under the names KumoMTA uses.
   */
  public Gauge kumoCounter(String name, String help, String... labelNames) {
    return gauge(name, help, labelNames);
  }

  public Gauge gauge(String name, String help, String... labelNames) {
    return shared(
        name,
        () ->
            Gauge.builder()
                .name(name)
                .help(help)
                .labelNames(labelNames)
                .withoutExemplars()
                .build());
  }

  /** A collector of this component's own (computed at each scrape), registered under its name. */
  public <T extends Collector> T collector(String name, Supplier<T> create) {
    return shared(name, create);
  }

  /** Several metric families computed together at each scrape, under one name of the set's. */
  public <T extends MultiCollector> T multiCollector(String key, Supplier<T> create) {
    return take(
        key,
        () -> {
          T created = create.get();
          registry.register(created);
          return new Shared(created, () -> registry.unregister(created), new int[1]);
        });
  }

  private <T> T shared(String name, Supplier<T> create) {
    return take(
        name,
        () -> {
          T created = create.get();
          Collector collector = (Collector) created;
          registry.register(collector);
          return new Shared(created, () -> registry.unregister(collector), new int[1]);
        });
  }

  /** The metric registered under the name, made and registered by {@code register} if none is. */
  private <T> T take(String name, Supplier<Shared> register) {
    synchronized (SHARED) {
      String id = id(name);
      Shared shared = SHARED.computeIfAbsent(id, k -> register.get());
      shared.users()[0]++;
      held.add(id);
      @SuppressWarnings("unchecked")
      T metric = (T) shared.metric();
      return metric;
    }
  }

  /** Shared within one registry: tests may use registries of their own. */
  private String id(String name) {
    return System.identityHashCode(registry) + "/" + name;
  }

  /** Gives back every metric this set took; the last user of one removes it from the registry. */
  @Override
  public void close() {
    synchronized (SHARED) {
      for (String name : held) {
        Shared shared = SHARED.get(name);
        if (shared != null && --shared.users()[0] == 0) {
          SHARED.remove(name);
          shared.unregister().run();
        }
      }
      held.clear();
    }
  }
}
