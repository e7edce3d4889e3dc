package org.postilion.delivery.smtp;

import io.prometheus.metrics.core.metrics.Gauge;
import org.postilion.api.metrics.MetricSet;

/**
 * KumoMTA's MX resolution metrics: {@code dns_mx_resolve_in_progress}, {@code
 * dns_mx_resolve_status_ok}, {@code dns_mx_resolve_status_fail}, {@code dns_mx_resolve_cache_hit}
 * and {@code dns_mx_resolve_cache_miss} (the counters under KumoMTA's names, see {@link
 * MetricSet#kumoCounter}).
 */
final class DnsMetrics implements AutoCloseable {
  private final MetricSet set = new MetricSet();
  final Gauge inProgress =
      set.gauge("dns_mx_resolve_in_progress", "number of MailExchanger::resolve calls in progress");
  final Gauge ok =
      set.kumoCounter(
          "dns_mx_resolve_status_ok", "total number of successful MailExchanger::resolve calls");
  final Gauge fail =
      set.kumoCounter(
          "dns_mx_resolve_status_fail", "total number of failed MailExchanger::resolve calls");
  final Gauge cacheHit =
      set.kumoCounter(
          "dns_mx_resolve_cache_hit", "total number of MailExchanger::resolve cache hits");
  final Gauge cacheMiss =
      set.kumoCounter(
          "dns_mx_resolve_cache_miss", "total number of MailExchanger::resolve cache misses");

  @Override
  public void close() {
    set.close();
  }
}
