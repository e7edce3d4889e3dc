package org.postilion.http.web;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletPattern;

/** {@code GET /api/check-liveness/v1} (open to all) and the OpenAPI document of the API. */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({ApiInfoServlet.LIVENESS, ApiInfoServlet.OPENAPI})
@HttpWhiteboardServletName("postilion-api-info")
public class ApiInfoServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  static final String LIVENESS = "/api/check-liveness/v1";
  static final String OPENAPI = "/api/openapi.json";

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    if (LIVENESS.equals(request.getServletPath())) {
      Json.write(response, 200, Map.of("status", "alive"));
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
