package org.postilion.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueAdmin.BounceOutcome;
import org.postilion.api.admin.Selector;
import org.postilion.api.queue.Durations;
import org.postilion.http.web.Json;
import org.postilion.http.web.RequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API under {@code /api/admin/}: what the {@code mta:*} shell commands do, with KumoMTA's
 * endpoint names. Actions take a selector ({@code domain}, {@code tenant}, {@code campaign}, {@code
 * queue}) in a JSON body; listings and inspection are GETs.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/api/admin/*")
@HttpWhiteboardServletName("postilion-admin")
public class AdminServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(AdminServlet.class);
  private static final long MAX_BODY = 64 * 1024;
  private static final int DEFAULT_LIST_LIMIT = 100;

  @Reference private transient QueueAdmin admin;

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    String route =
        request.getMethod() + " " + (request.getPathInfo() == null ? "" : request.getPathInfo());
    try {
      Object body =
          switch (route) {
            case "GET /queue-summary/v1" -> admin.summary();
            case "GET /inspect-message/v1" -> inspectMessage(request);
            case "GET /inspect-sched-q/v1" -> listQueued(request);
            case "GET /suspend/v1" -> admin.suspensions();
            case "POST /suspend/v1" -> suspend(read(request));
            case "DELETE /suspend/v1" -> resume(request);
            case "POST /suspend-ready-q/v1" -> suspendReady(read(request));
            case "GET /bounce/v1" -> admin.bounces();
            case "POST /bounce/v1" -> bounce(read(request));
            case "DELETE /bounce/v1" -> cancelBounce(request);
            case "POST /retry-now/v1" ->
                Map.of("recipients", admin.retryNow(selector(read(request))));
            case "POST /rebind/v1" -> rebind(read(request));
            case "GET /protocols/v1" -> admin.protocols();
            default -> throw new RequestException(404, null, "no such endpoint: " + route);
          };
      Json.write(response, 200, body);
    } catch (RequestException e) {
      Json.error(response, e);
    } catch (IllegalArgumentException e) {
      // QueueAdmin's way of saying the operator's arguments are wrong.
      Json.write(response, 400, Json.errorBody(e.getMessage(), null));
    } catch (RuntimeException e) {
      LOG.error("Admin request {} failed", route, e);
      Json.write(response, 500, Json.errorBody("internal error: " + e, null));
    }
  }

  private Object inspectMessage(HttpServletRequest request) throws RequestException {
    String id = required(request.getParameter("id"), "id");
    return admin
        .message(id)
        .orElseThrow(() -> new RequestException(404, "id", "no message " + id + " is queued"));
  }

  private Object listQueued(HttpServletRequest request) throws RequestException {
    Selector selector = null;
    if (request.getParameter("domain") != null
        || request.getParameter("tenant") != null
        || request.getParameter("campaign") != null
        || request.getParameter("queue") != null) {
      selector =
          new Selector(
              request.getParameter("domain"),
              request.getParameter("tenant"),
              request.getParameter("campaign"),
              request.getParameter("queue"));
    }
    int limit = DEFAULT_LIST_LIMIT;
    String limitText = request.getParameter("limit");
    if (limitText != null) {
      try {
        limit = Integer.parseInt(limitText);
      } catch (NumberFormatException e) {
        throw RequestException.badField("limit", "not a number: " + limitText);
      }
    }
    return admin.list(selector, limit);
  }

  private Object suspend(JsonNode body) throws RequestException {
    return admin.suspend(selector(body), duration(body), text(body, "reason"));
  }

  private Object suspendReady(JsonNode body) throws RequestException {
    return admin.suspendReady(
        required(text(body, "name"), "name"), duration(body), text(body, "reason"));
  }

  private Object resume(HttpServletRequest request) throws IOException, RequestException {
    JsonNode body = readOptional(request);
    String id = request.getParameter("id") != null ? request.getParameter("id") : text(body, "id");
    Selector selector = id == null ? selector(body) : null;
    List<AdminAction> ended = admin.resume(id, selector);
    if (ended.isEmpty()) {
      throw new RequestException(404, id == null ? null : "id", "no such suspension");
    }
    return ended;
  }

  private Object bounce(JsonNode body) throws RequestException {
    BounceOutcome outcome = admin.bounce(selector(body), duration(body), text(body, "reason"));
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("id", outcome.bounce().id());
    result.put("bounced", outcome.bounced());
    result.put("bounce", outcome.bounce());
    return result;
  }

  private Object cancelBounce(HttpServletRequest request) throws IOException, RequestException {
    String id =
        request.getParameter("id") != null
            ? request.getParameter("id")
            : text(readOptional(request), "id");
    if (!admin.cancelBounce(required(id, "id"))) {
      throw new RequestException(404, "id", "no bounce " + id + " is in force");
    }
    return Map.of("cancelled", id);
  }

  private Object rebind(JsonNode body) throws RequestException {
    return Map.of("recipients", admin.rebind(selector(body), text(body, "reason")));
  }

  private static Selector selector(JsonNode body) {
    return new Selector(
        text(body, "domain"), text(body, "tenant"), text(body, "campaign"), text(body, "queue"));
  }

  private static Duration duration(JsonNode body) throws RequestException {
    String text = text(body, "duration");
    if (text == null) {
      return null;
    }
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw RequestException.badField("duration", e.getMessage());
    }
  }

  private static JsonNode read(HttpServletRequest request) throws IOException, RequestException {
    JsonNode body = Json.parse(Json.body(request, MAX_BODY));
    if (!body.isObject()) {
      throw RequestException.badField(null, "the body must be a JSON object");
    }
    return body;
  }

  private static JsonNode readOptional(HttpServletRequest request)
      throws IOException, RequestException {
    byte[] bytes = Json.body(request, MAX_BODY);
    return bytes.length == 0 ? NullNode.getInstance() : Json.parse(bytes);
  }

  private static String text(JsonNode body, String field) {
    JsonNode node = body.get(field);
    return node == null || node.isNull() ? null : node.asText();
  }

  private static String required(String value, String field) throws RequestException {
    if (value == null || value.isBlank()) {
      throw RequestException.badField(field, "is required");
    }
    return value;
  }
}
