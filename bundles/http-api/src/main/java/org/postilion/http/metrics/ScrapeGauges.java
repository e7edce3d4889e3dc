package org.postilion.http.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueCounts;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.metrics.Providers;
import org.postilion.api.metrics.ServiceNames;
import org.postilion.api.queue.QueueName;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gauges read at each scrape, from figures kept up to date as things happen (the queue
 * manager's counts, listeners' connection counts): a scrape never walks the queues or the spool.
 * KumoMTA's {@code scheduled_count}, {@code ready_count} and {@code connection_count} (per ready
 * queue as {@code service="smtp_client:<ready queue>"}, per listener as {@code
 * esmtp_listener:<name>}), {@code queued_count_by_provider}, {@code connection_count_by_provider},
 * {@code smtp_server_rejections}; ours: {@code ready_count_by_queue}, {@code delayed_count}, {@code
 * spool_size_bytes} and the JVM's memory and threads.
 */
final class ScrapeGauges implements MultiCollector {
  private static final Logger LOG = LoggerFactory.getLogger(ScrapeGauges.class);

  private final QueueAdmin admin;
  private final Spool spool;
  private final Supplier<Providers> providers;
  private final Supplier<List<LocalListener>> listeners;

  ScrapeGauges(
      QueueAdmin admin,
      Spool spool,
      Supplier<Providers> providers,
      Supplier<List<LocalListener>> listeners) {
    this.admin = admin;
    this.spool = spool;
    this.providers = providers;
    this.listeners = listeners;
  }

  @Override
  public MetricSnapshots collect() {
    MetricSnapshots.Builder out = MetricSnapshots.builder();
    Map<String, QueueCounts> counts = admin.counts();
    List<ReadyQueueStatus> ready = admin.readyQueues();
    List<LocalListener> local = listeners.get();

    Family scheduled = new Family("scheduled_count", "number of messages in the scheduled queue");
    Family readyByQueue =
        new Family(
            "ready_count_by_queue",
            "number of messages handed to a delivery protocol, per scheduled queue (ours)");
    Family delayed =
        new Family(
            "delayed_count",
            "number of messages that failed at least once and wait for a retry (ours)");
    Map<String, Long> byDomain = new TreeMap<>();
    Map<String, Long> byTenant = new TreeMap<>();
    Map<List<String>, Long> byTenantCampaign = new java.util.HashMap<>();
    long total = 0;
    for (Map.Entry<String, QueueCounts> entry : counts.entrySet()) {
      String queue = entry.getKey();
      QueueCounts c = entry.getValue();
      scheduled.add(c.scheduled(), "queue", queue);
      readyByQueue.add(c.ready(), "queue", queue);
      delayed.add(c.delayed(), "queue", queue);
      total += c.scheduled();
      QueueName name = QueueName.parse(queue);
      byDomain.merge(name.domain(), c.scheduled(), Long::sum);
      if (name.tenant() != null) {
        byTenant.merge(name.tenant(), c.scheduled(), Long::sum);
        if (name.campaign() != null) {
          byTenantCampaign.merge(List.of(name.tenant(), name.campaign()), c.scheduled(), Long::sum);
        }
      }
    }
    Family scheduledTotal =
        new Family(
            "scheduled_count_total",
            "the number of messages currently sitting in all scheduled queues");
    scheduledTotal.add(total);
    Family domains =
        new Family(
            "scheduled_by_domain",
            "number of messages in the scheduled queue for a specific domain");
    byDomain.forEach((domain, n) -> domains.add(n, "domain", domain));
    Family tenants =
        new Family(
            "scheduled_by_tenant",
            "number of messages in the scheduled queue for a specific tenant");
    byTenant.forEach((tenant, n) -> tenants.add(n, "tenant", tenant));
    Family tenantCampaigns =
        new Family(
            "scheduled_by_tenant_campaign",
            "number of messages in the scheduled queue for a specific tenant and campaign"
                + " combination");
    byTenantCampaign.forEach(
        (key, n) -> tenantCampaigns.add(n, "tenant", key.get(0), "campaign", key.get(1)));

    Family readyCount = new Family("ready_count", "number of messages in the ready queue");
    Family connections = new Family("connection_count", "number of active connections");
    Map<String, long[]> byProvider = new TreeMap<>();
    Map<List<String>, long[]> byProviderAndPool = new java.util.HashMap<>();
    Providers table = providers.get();
    // Ready queues that differ only in what their sessions are made with (SMTP's TLS mode or EHLO
    // name) share a name: one series each, summed, as a label set may appear only once.
    Map<String, long[]> byService = new TreeMap<>();
    for (ReadyQueueStatus r : ready) {
      long[] service =
          byService.computeIfAbsent(
              ServiceNames.of(r.protocol()) + ":" + r.name(), k -> new long[2]);
      service[0] += r.ready();
      service[1] += r.connections();
      String provider = table == null ? r.site() : table.provider(r.site());
      long[] sums = byProvider.computeIfAbsent(provider, p -> new long[2]);
      sums[0] += r.ready();
      sums[1] += r.connections();
      long[] pooled =
          byProviderAndPool.computeIfAbsent(List.of(r.pool(), provider), p -> new long[2]);
      pooled[0] += r.ready();
      pooled[1] += r.connections();
    }
    byService.forEach(
        (service, sums) -> {
          readyCount.add(sums[0], "service", service);
          connections.add(sums[1], "service", service);
        });
    Family queuedByProvider =
        new Family(
            "queued_count_by_provider",
            "number of messages in the ready queues of the provider's sites");
    Family connectionsByProvider =
        new Family("connection_count_by_provider", "number of active connections");
    byProvider.forEach(
        (provider, sums) -> {
          queuedByProvider.add(sums[0], "provider", provider);
          connectionsByProvider.add(sums[1], "provider", provider);
        });
    Family queuedByProviderAndPool =
        new Family(
            "queued_count_by_provider_and_pool",
            "number of messages in the ready queues of the provider's sites, per egress pool");
    Family connectionsByProviderAndPool =
        new Family("connection_count_by_provider_and_pool", "number of active connections");
    byProviderAndPool.forEach(
        (key, sums) -> {
          queuedByProviderAndPool.add(sums[0], "pool", key.get(0), "provider", key.get(1));
          connectionsByProviderAndPool.add(sums[1], "pool", key.get(0), "provider", key.get(1));
        });

    Family rejections =
        new Family(
            "smtp_server_rejections",
            "total number of clients and commands the SMTP listeners turned away");
    for (LocalListener listener : local) {
      String service = "esmtp_listener:" + listener.name();
      connections.add(listener.connections(), "service", service);
      listener
          .refusalCounts()
          .forEach((reason, count) -> rejections.add(count, "service", service, "reason", reason));
    }

    out.metricSnapshot(scheduled.build())
        .metricSnapshot(scheduledTotal.build())
        .metricSnapshot(domains.build())
        .metricSnapshot(tenants.build())
        .metricSnapshot(tenantCampaigns.build())
        .metricSnapshot(readyByQueue.build())
        .metricSnapshot(delayed.build())
        .metricSnapshot(readyCount.build())
        .metricSnapshot(connections.build())
        .metricSnapshot(queuedByProvider.build())
        .metricSnapshot(connectionsByProvider.build())
        .metricSnapshot(queuedByProviderAndPool.build())
        .metricSnapshot(connectionsByProviderAndPool.build())
        .metricSnapshot(rejections.build());
    spoolSize(out);
    jvm(out);
    return out.build();
  }

  private void spoolSize(MetricSnapshots.Builder out) {
    try {
      Family size = new Family("spool_size_bytes", "bytes the spool takes on disk (ours)");
      size.add(spool.sizeOnDisk());
      out.metricSnapshot(size.build());
    } catch (SpoolException e) {
      LOG.warn("Spool size left out of the metrics", e);
    }
  }

  private static void jvm(MetricSnapshots.Builder out) {
    var memory = ManagementFactory.getMemoryMXBean();
    MemoryUsage heap = memory.getHeapMemoryUsage();
    MemoryUsage nonHeap = memory.getNonHeapMemoryUsage();
    Family used = new Family("jvm_memory_used_bytes", "JVM memory in use");
    used.add(heap.getUsed(), "area", "heap");
    used.add(nonHeap.getUsed(), "area", "nonheap");
    Family committed =
        new Family("jvm_memory_committed_bytes", "JVM memory committed by the operating system");
    committed.add(heap.getCommitted(), "area", "heap");
    committed.add(nonHeap.getCommitted(), "area", "nonheap");
    Family max = new Family("jvm_memory_max_bytes", "most heap the JVM may use");
    max.add(heap.getMax(), "area", "heap");
    Family threads = new Family("jvm_threads_current", "JVM threads alive");
    threads.add(ManagementFactory.getThreadMXBean().getThreadCount());
    out.metricSnapshot(used.build())
        .metricSnapshot(committed.build())
        .metricSnapshot(max.build())
        .metricSnapshot(threads.build());
  }

  /** One gauge family being filled. */
  private static final class Family {
    private final GaugeSnapshot.Builder builder;

    Family(String name, String help) {
      builder = GaugeSnapshot.builder().name(name).help(help);
    }

    void add(double value, String... labels) {
      builder.dataPoint(
          GaugeDataPointSnapshot.builder().labels(Labels.of(labels)).value(value).build());
    }

    GaugeSnapshot build() {
      return builder.build();
    }
  }
}
