package org.postilion.http.web;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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

/**
 * {@code GET /api/check-liveness/v1} (open to all), as KumoMTA answers it: {@code OK}, or 503 with
 * why the server takes no mail now; and the OpenAPI document of the API.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({ApiInfoServlet.LIVENESS, ApiInfoServlet.OPENAPI})
@HttpWhiteboardServletName("postilion-api-info")
public class ApiInfoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  static final String LIVENESS = "/api/check-liveness/v1";
  static final String OPENAPI = "/api/openapi.json";

  @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
  private transient volatile QueueAdmin admin;

  /** KumoMTA's words for a server that sheds load: the disk, then the memory. */
  private static String paused(QueueAdmin queues) {
    String reason = queues.receptionPaused();
    if (reason == null) {
      return null;
    }
    return reason.equals("min_free_space") ? "storage is too full" : "load shedding";
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    if (LIVENESS.equals(request.getServletPath())) {
      QueueAdmin queues = admin;
      String paused = queues == null ? "waiting for spool startup" : paused(queues);
      byte[] body = (paused == null ? "OK" : paused).getBytes(StandardCharsets.UTF_8);
      response.setStatus(paused == null ? 200 : 503);
      response.setContentType("text/plain; charset=utf-8");
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
      return;
    }
    try (InputStream document = ApiInfoServlet.class.getResourceAsStream("openapi.json")) {
      byte[] bytes = document.readAllBytes();
      response.setStatus(200);
      response.setContentType("application/json");
      response.setContentLength(bytes.length);
      response.getOutputStream().write(bytes);
    }
  }
}
