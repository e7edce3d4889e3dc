package org.postilion.http.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.util.List;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.metrics.MetricSet;
import org.postilion.api.metrics.Providers;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.spool.Spool;

/**
 * {@code GET /metrics}: Prometheus's default registry in its text format, written by the Prometheus
 * Java client. Every bundle records its own series there (the queue manager its counters and
 * latency histograms, the SMTP listeners theirs); this servlet adds the gauges read at each scrape
 * from the queue manager, the spool and the listeners ({@link ScrapeGauges}).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/metrics")
@HttpWhiteboardServletName("postilion-metrics")
public class MetricsServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
  private final transient MetricSet metrics = new MetricSet();

  @Reference private transient QueueAdmin admin;
  @Reference private transient Spool spool;

  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private transient volatile Providers providers;

  /** Replaced whole by Declarative Services as listeners come and go. */
  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
  private transient volatile List<LocalListener> listeners;

  @Activate
  void activate() {
    metrics.multiCollector(
        "postilion-scrape-gauges",
        () -> new ScrapeGauges(admin, spool, () -> providers, () -> listeners));
  }

  @Deactivate
  void deactivate() {
    metrics.close();
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    MetricSnapshots snapshots = PrometheusRegistry.defaultRegistry.scrape();
    response.setStatus(200);
    response.setContentType(writer.getContentType());
    writer.write(response.getOutputStream(), snapshots);
  }
}
