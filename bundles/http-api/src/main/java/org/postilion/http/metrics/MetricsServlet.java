package org.postilion.http.metrics;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueCounts;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /metrics} in Prometheus text format, KumoMTA's metric names where it has them. Every
 * figure is kept up to date as things happen (event counters, the queue manager's gauges,
 * listeners' connection counts): a scrape never walks the queues or the spool.
 */
@Component(service = {Servlet.class, EventListener.class})
@HttpWhiteboardServletPattern("/metrics")
@HttpWhiteboardServletName("postilion-metrics")
public class MetricsServlet extends HttpServlet implements EventListener {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServlet.class);

  private final transient EventCounters counters = new EventCounters();

  @Reference private transient QueueAdmin admin;
  @Reference private transient Spool spool;

  /** Replaced whole by Declarative Services as listeners come and go. */
  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
  private transient volatile List<LocalListener> listeners;

  @Override
  public void onEvent(EventRecord record) {
    counters.count(record);
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    PrometheusText out = new PrometheusText();
    counters.write(out);
    List<ReadyQueueStatus> readyQueues = admin.readyQueues();
    queues(out, readyQueues);
    listeners(out, readyQueues);
    jvm(out);
    byte[] body = out.toString().getBytes(StandardCharsets.UTF_8);
    response.setStatus(200);
    response.setContentType(PrometheusText.CONTENT_TYPE);
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  private void queues(PrometheusText out, List<ReadyQueueStatus> readyQueues) {
    Map<String, QueueCounts> counts = admin.counts();
    out.help("scheduled_count", "Recipients waiting in each scheduled queue")
        .type("scheduled_count", "gauge");
    counts.forEach(
        (queue, c) -> out.sample("scheduled_count", Map.of("queue", queue), c.scheduled()));
    out.help(
            "ready_count_by_queue", "Recipients handed to a delivery protocol, per scheduled queue")
        .type("ready_count_by_queue", "gauge");
    counts.forEach(
        (queue, c) -> out.sample("ready_count_by_queue", Map.of("queue", queue), c.ready()));
    // KumoMTA's ready_count and outgoing connection_count: per ready queue, labelled as kcli
    // queue-summary reads them, service="<protocol>:<source>-><site>@<protocol>".
    out.help("ready_count", "Messages waiting in each ready queue").type("ready_count", "gauge");
    for (ReadyQueueStatus r : readyQueues) {
      out.sample("ready_count", Map.of("service", service(r)), r.ready());
    }

    out.help("delayed_count", "Recipients that failed at least once and wait for a retry")
        .type("delayed_count", "gauge");
    counts.forEach((queue, c) -> out.sample("delayed_count", Map.of("queue", queue), c.delayed()));
    try {
      long bytes = spool.sizeOnDisk();
      out.help("spool_size_bytes", "Bytes the spool takes on disk")
          .type("spool_size_bytes", "gauge")
          .sample("spool_size_bytes", Map.of(), bytes);
    } catch (SpoolException e) {
      LOG.warn("Spool size left out of the metrics", e);
    }
  }

  private void listeners(PrometheusText out, List<ReadyQueueStatus> outgoing) {
    out.help("connection_count", "Connections open now: of clients, and of ready queues")
        .type("connection_count", "gauge");
    for (ReadyQueueStatus r : outgoing) {
      out.sample("connection_count", Map.of("service", service(r)), r.connections());
    }
    for (LocalListener listener : listeners) {
      out.sample(
          "connection_count",
          Map.of("service", "esmtp_listener:" + listener.name()),
          listener.connections());
    }
    out.help("smtp_server_rejections", "Clients and commands the SMTP listeners turned away")
        .type("smtp_server_rejections", "counter");
    for (LocalListener listener : listeners) {
      listener
          .refusalCounts()
          .forEach(
              (reason, count) ->
                  out.sample(
                      "smtp_server_rejections",
                      Map.of("service", "esmtp_listener:" + listener.name(), "reason", reason),
                      count));
    }
  }

  /** KumoMTA's service label of a ready queue: {@code smtp_client:<name>} for SMTP. */
  private static String service(ReadyQueueStatus ready) {
    return EventCounters.service(ready.protocol()) + ":" + ready.name();
  }

  private static void jvm(PrometheusText out) {
    var memory = ManagementFactory.getMemoryMXBean();
    out.help("jvm_memory_used_bytes", "JVM memory in use").type("jvm_memory_used_bytes", "gauge");
    sample(out, "jvm_memory_used_bytes", "heap", memory.getHeapMemoryUsage().getUsed());
    sample(out, "jvm_memory_used_bytes", "nonheap", memory.getNonHeapMemoryUsage().getUsed());
    out.help("jvm_memory_committed_bytes", "JVM memory committed by the operating system")
        .type("jvm_memory_committed_bytes", "gauge");
    MemoryUsage heap = memory.getHeapMemoryUsage();
    sample(out, "jvm_memory_committed_bytes", "heap", heap.getCommitted());
    sample(
        out,
        "jvm_memory_committed_bytes",
        "nonheap",
        memory.getNonHeapMemoryUsage().getCommitted());
    out.help("jvm_memory_max_bytes", "Most heap the JVM may use")
        .type("jvm_memory_max_bytes", "gauge");
    sample(out, "jvm_memory_max_bytes", "heap", heap.getMax());
    out.type("jvm_threads_current", "gauge")
        .sample(
            "jvm_threads_current", Map.of(), ManagementFactory.getThreadMXBean().getThreadCount());
  }

  private static void sample(PrometheusText out, String metric, String area, long value) {
    out.sample(metric, Map.of("area", area), value);
  }
}
