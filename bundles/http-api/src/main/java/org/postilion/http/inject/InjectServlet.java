package org.postilion.http.inject;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletAsyncSupported;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Reception;
import org.postilion.http.inject.Injector.Client;
import org.postilion.http.inject.Injector.Result;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.security.AccessFilter;
import org.postilion.http.web.Json;
import org.postilion.http.web.MemoryBudget;
import org.postilion.http.web.RequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/inject/v1} (KumoMTA's JSON request and response) and {@code POST
 * /api/inject/raw/v1} (RFC 5322 bytes as the body, the envelope in the query or in headers).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/api/inject/*")
@HttpWhiteboardServletName("postilion-inject")
@HttpWhiteboardServletAsyncSupported
public class InjectServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(InjectServlet.class);

  @Reference private transient Reception reception;

  /** Limits and injector; change in place when their cfg file does. */
  @Reference private transient InjectSettings settings;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    InjectSettings.Current current = settings.current();
    String path = request.getPathInfo() == null ? "" : request.getPathInfo();
    try {
      switch (path) {
        case "/v1" -> injectJson(request, response, current);
        case "/raw/v1" -> {
          Result result = injectRaw(request, current);
          Json.write(response, result.status(), result.outcome());
        }
        default -> throw new RequestException(404, null, "no such endpoint: " + path);
      }
    } catch (RequestException e) {
      Json.error(response, e);
    } catch (RuntimeException e) {
      LOG.error("Injection from {} failed", request.getRemoteAddr(), e);
      Json.write(
          response, 500, Json.errorBody("internal error; the server's log has the details", null));
    }
  }

  /**
   * Reads and checks the request here, then leaves rendering and queueing to the render threads: a
   * template that takes its time holds one of those, not one of Jetty's.
   */
  private void injectJson(
      HttpServletRequest request, HttpServletResponse response, InjectSettings.Current current)
      throws IOException, RequestException {
    // The body, its parse tree and the messages made of it: a few times the body's size, held
    // until the request is answered.
    MemoryBudget.Reservation memory = settings.memory().open();
    boolean handedOver = false;
    try {
      byte[] body = Json.body(request, current.config().max__request__size(), memory, 4);
      InjectionRequest parsed = InjectionRequest.parse(Json.parse(body));
      if (parsed.recipients().size() > current.config().max__recipients()) {
        throw RequestException.badField(
            "recipients", "more than " + current.config().max__recipients() + " in one request");
      }
      Client client = client(request);
      RenderBudget budget = current.budget();
      AsyncInjection.start(
          request,
          response,
          // Read again: reading a large body takes a while, and a cfg change closes the old pool.
          settings.current().pool(),
          budget,
          current.requestTimeout(),
          current.renderTimeout(),
          () -> current.injector().inject(parsed, client, reception, budget),
          memory::close);
      handedOver = true;
    } finally {
      if (!handedOver) {
        memory.close();
      }
    }
  }

  private Result injectRaw(HttpServletRequest request, InjectSettings.Current current)
      throws IOException, RequestException {
    List<String> senders = envelope(request, "envelope_sender", "X-Envelope-Sender");
    List<String> recipients = envelope(request, "recipient", "X-Envelope-Recipient");
    if (senders.size() != 1) {
      throw RequestException.badField(
          "envelope_sender",
          "exactly one is required, as a query parameter or an X-Envelope-Sender header");
    }
    String senderProblem = EmailAddresses.problem(senders.get(0));
    if (senderProblem != null) {
      throw RequestException.badField("envelope_sender", senderProblem);
    }
    if (recipients.isEmpty()) {
      throw RequestException.badField(
          "recipient", "at least one is required, as query parameters or X-Envelope-Recipient");
    }
    if (recipients.size() > current.config().max__recipients()) {
      throw RequestException.badField(
          "recipient", "more than " + current.config().max__recipients() + " in one request");
    }
    long announced = request.getContentLengthLong();
    long max = settings.maxRawMessageSize();
    if (announced > max) {
      throw new RequestException(413, null, "the message is larger than " + max + " bytes");
    }
    try (ContentBuffer content = RawMessage.read(request.getInputStream(), max, reception)) {
      return current
          .injector()
          .injectRaw(senders.get(0), recipients, content, client(request), reception);
    }
  }

  /**
   * Values from the query string (parsed here so that a form content type cannot make the container
   * eat the body) and from a header, each comma-separated or repeated.
   */
  private static List<String> envelope(
      HttpServletRequest request, String parameter, String header) {
    List<String> values = new ArrayList<>();
    String query = request.getQueryString();
    if (query != null) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        String name =
            URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        if (name.equals(parameter) && eq >= 0) {
          split(URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8), values);
        }
      }
    }
    for (String value : Collections.list(request.getHeaders(header))) {
      split(value, values);
    }
    return values;
  }

  private static void split(String value, List<String> into) {
    for (String part : value.split(",")) {
      if (!part.isBlank()) {
        into.add(part.trim());
      }
    }
  }

  private static Client client(HttpServletRequest request) {
    return new Client(
        request.getRemoteAddr(),
        request.isSecure() ? "HTTPS" : "HTTP",
        (String) request.getAttribute(AccessFilter.TENANT));
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    response.setHeader("Allow", "POST");
    Json.write(response, 405, Json.errorBody("use POST", null));
  }
}
