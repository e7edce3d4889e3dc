package org.postilion.shell;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The series {@code /metrics} serves, read from the same registry, as kcli reads KumoMTA's metrics
 * endpoint: the commands built on them show what a dashboard would.
 */
final class MetricsView {
  /** One sample: its metric's name, labels and value. */
  record Sample(String metric, Labels labels, double value) {
    String label(String name) {
      String value = labels.get(name);
      return value == null ? "" : value;
    }
  }

  private final List<Sample> samples;

  private MetricsView(List<Sample> samples) {
    this.samples = samples;
  }

  /** The current values of the named metrics (gauges and counters). */
  static MetricsView read(Set<String> names) {
    List<Sample> samples = new ArrayList<>();
    for (MetricSnapshot snapshot : PrometheusRegistry.defaultRegistry.scrape(names::contains)) {
      String name = snapshot.getMetadata().getName();
      if (snapshot instanceof GaugeSnapshot gauge) {
        gauge
            .getDataPoints()
            .forEach(p -> samples.add(new Sample(name, p.getLabels(), p.getValue())));
      } else if (snapshot instanceof CounterSnapshot counter) {
        counter
            .getDataPoints()
            .forEach(p -> samples.add(new Sample(name, p.getLabels(), p.getValue())));
      }
    }
    return new MetricsView(samples);
  }

  List<Sample> samples() {
    return samples;
  }

  /** The sum of a metric's samples whose labels the filter accepts. */
  double sum(String metric, java.util.function.Predicate<Sample> filter) {
    double sum = 0;
    for (Sample sample : samples) {
      if (sample.metric().equals(metric) && filter.test(sample)) {
        sum += sample.value();
      }
    }
    return sum;
  }
}
