package org.postilion.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
import org.postilion.api.admin.KumoListEntries;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueAdmin.BounceOutcome;
import org.postilion.api.admin.Selector;
import org.postilion.api.admin.XferStatus;
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
            case "GET /inspect-sched-q/v1" ->
                request.getParameter("queue_name") != null
                    ? SchedQueueInspection.inspect(
                        admin,
                        request.getParameter("queue_name"),
                        Boolean.parseBoolean(request.getParameter("want_body")),
                        limit(request, DEFAULT_LIST_LIMIT))
                    : listQueued(request);
            case "GET /inspect-ready-q/v1" ->
                ReadyQueueInspection.inspect(admin, request.getParameter("queue_name"));
            case "GET /ready-q-states/v1" -> ReadyQueueInspection.states(admin);
            case "POST /abort-ready-q-conn/v1" -> abortSession(read(request), response);
            case "GET /suspend/v1" -> suspensions(AdminAction.Kind.SUSPEND);
            case "POST /suspend/v1" -> suspend(read(request));
            case "DELETE /suspend/v1" -> resume(request, response, "suspend");
            case "GET /suspend-ready-q/v1" -> suspensions(AdminAction.Kind.SUSPEND_READY);
            case "POST /suspend-ready-q/v1" -> suspendReady(read(request));
            case "DELETE /suspend-ready-q/v1" -> resume(request, response, "suspend-ready-q");
            case "GET /bounce/v1" -> bounces();
            case "POST /bounce/v1" -> bounce(read(request));
            case "DELETE /bounce/v1" -> cancelBounce(request, response);
            case "POST /retry-now/v1" ->
                Map.of("recipients", admin.retryNow(selector(read(request))));
            case "POST /rebind/v1" -> rebind(read(request));
            case "GET /protocols/v1" -> admin.protocols();
            case "POST /xfer/v1" -> xfer(read(request));
            case "GET /xfer/v1" -> admin.xfers();
            case "POST /xfer-cancel/v1" -> cancelXfer(read(request), response);
            default -> throw new RequestException(404, null, "no such endpoint: " + route);
          };
      if (body != TEXT_WRITTEN) {
        Json.write(response, 200, body);
      }
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
    return admin.list(selector, limit(request, DEFAULT_LIST_LIMIT));
  }

  private static Integer limit(HttpServletRequest request, Integer otherwise)
      throws RequestException {
    String limitText = request.getParameter("limit");
    if (limitText == null) {
      return otherwise;
    }
    try {
      return Integer.parseInt(limitText);
    } catch (NumberFormatException e) {
      throw RequestException.badField("limit", "not a number: " + limitText);
    }
  }

  /** KumoMTA answers its DELETEs in plain text; the body is written already. */
  private static final Object TEXT_WRITTEN = new Object();

  private Object suspend(JsonNode body) throws RequestException {
    KumoRequests.Action action = KumoRequests.suspend(body, Instant.now());
    return Map.of("id", admin.suspend(action.selector(), action.duration(), action.reason()).id());
  }

  private Object suspendReady(JsonNode body) throws RequestException {
    KumoRequests.Action action = KumoRequests.suspendReady(body, Instant.now());
    return Map.of("id", admin.suspendReady(action.name(), action.duration(), action.reason()).id());
  }

  private Object suspensions(AdminAction.Kind kind) {
    Instant now = Instant.now();
    return admin.suspensions().stream()
        .filter(a -> a.kind() == kind)
        .map(
            a ->
                kind == AdminAction.Kind.SUSPEND
                    ? KumoListEntries.suspend(a, now)
                    : KumoListEntries.suspendReady(a, now))
        .toList();
  }

  private Object resume(HttpServletRequest request, HttpServletResponse response, String what)
      throws IOException, RequestException {
    String id = KumoRequests.id(readOptional(request), request.getParameter("id"));
    List<AdminAction> ended = admin.resume(id, null);
    if (ended.isEmpty()) {
      text(response, 404, what + " entry " + id + " not found");
    } else {
      text(response, 200, "removed " + id);
    }
    return TEXT_WRITTEN;
  }

  private Object bounce(JsonNode body) throws RequestException {
    KumoRequests.Action action = KumoRequests.bounce(body, Instant.now());
    BounceOutcome outcome = admin.bounce(action.selector(), action.duration(), action.reason());
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("id", outcome.bounce().id());
    result.put("bounced", admin.bounced(outcome.bounce().id()));
    result.put("total_bounced", outcome.bounced());
    return result;
  }

  private Object bounces() {
    Instant now = Instant.now();
    return admin.bounces().stream()
        .map(b -> KumoListEntries.bounce(b, admin.bounced(b.id()), now))
        .toList();
  }

  private Object cancelBounce(HttpServletRequest request, HttpServletResponse response)
      throws IOException, RequestException {
    String id = KumoRequests.id(readOptional(request), request.getParameter("id"));
    if (admin.cancelBounce(id)) {
      text(response, 200, "removed " + id);
    } else {
      text(response, 404, "bounce entry " + id + " not found");
    }
    return TEXT_WRITTEN;
  }

  private Object abortSession(JsonNode body, HttpServletResponse response)
      throws IOException, RequestException {
    KumoRequests.Abort request = KumoRequests.abort(body);
    if (admin.abortSession(request.queue(), request.session())) {
      text(response, 200, "aborted " + request.session());
    } else {
      text(
          response,
          404,
          "no matching dispatcher for queue=" + request.queue() + " session=" + request.session());
    }
    return TEXT_WRITTEN;
  }

  private static void text(HttpServletResponse response, int status, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("text/plain; charset=utf-8");
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
  }

  /** KumoMTA answers {} and works in the background; the xfer's name and count are ours. */
  private Object xfer(JsonNode body) throws RequestException {
    KumoRequests.Xfer request = KumoRequests.xfer(body);
    XferStatus status = admin.xfer(request.selector(), request.target(), request.reason());
    return Map.of("queue_name", status.name(), "recipients", status.taken());
  }

  private Object cancelXfer(JsonNode body, HttpServletResponse response)
      throws IOException, RequestException {
    KumoRequests.XferCancel request = KumoRequests.xferCancel(body);
    if (admin.cancelXfer(request.name(), request.reason()).isPresent()) {
      return Map.of();
    }
    text(response, 404, "no xfer " + request.name());
    return TEXT_WRITTEN;
  }

  private Object rebind(JsonNode body) throws RequestException {
    return Map.of("recipients", admin.rebind(selector(body), text(body, "reason")));
  }

  private static Selector selector(JsonNode body) {
    return new Selector(
        text(body, "domain"), text(body, "tenant"), text(body, "campaign"), text(body, "queue"));
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
