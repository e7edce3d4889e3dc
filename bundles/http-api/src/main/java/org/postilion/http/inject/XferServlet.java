package org.postilion.http.inject;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
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
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Transfer;
import org.postilion.http.web.Json;
import org.postilion.http.web.RequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/xfer/inject/v1}: the receiving end of another node's xfer (KumoMTA's internal
 * endpoint of that name, with a wire format of our own). The body is one JSON line (envelope,
 * queue, schedule; at most 1 MiB) and then the message as the other node stored it, streamed into a
 * reception buffer. Answered with {@code {"id": ...}} only once the message is on disk here. It
 * needs the admin role (or a trusted address), as the admin API does.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/api/xfer/*")
@HttpWhiteboardServletName("postilion-xfer")
public class XferServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(XferServlet.class);

  static final String MEDIA_TYPE = "application/vnd.postilion.xfer";
  private static final int MAX_HEAD = 1024 * 1024;
  private static final int MAX_TEXT = 1024;

  @Reference private transient Reception reception;

  @Reference private transient InjectSettings settings;

  @Override
  protected void doPost(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    String path = request.getPathInfo() == null ? "" : request.getPathInfo();
    try {
      if (!path.equals("/inject/v1")) {
        throw new RequestException(404, null, "no such endpoint: " + path);
      }
      String type = request.getContentType() == null ? "" : request.getContentType();
      if (!type.startsWith(MEDIA_TYPE)) {
        throw new RequestException(415, null, "the body must be " + MEDIA_TYPE);
      }
      InputStream body = request.getInputStream();
      JsonNode head = Json.parse(firstLine(body));
      if (!head.isObject()) {
        throw RequestException.badField(null, "the first line must be a JSON object");
      }
      String id;
      try (ContentBuffer content = read(body, settings.maxRawMessageSize())) {
        id = reception.receiveTransfer(transfer(head, content, request.getRemoteAddr()));
      }
      Json.write(response, 200, Map.of("id", id));
    } catch (RequestException e) {
      Json.error(response, e);
    } catch (ReceptionException e) {
      // 4xx: try again later (the sender keeps the message); 5xx: this one will not do.
      int status = e.response().code() >= 500 ? 422 : 503;
      Json.write(response, status, Json.errorBody(e.response().toString(), null));
    } catch (RuntimeException e) {
      LOG.error("Transfer from {} failed", request.getRemoteAddr(), e);
      Json.write(response, 500, Json.errorBody("internal error: " + e, null));
    }
  }

  private static byte[] firstLine(InputStream body) throws IOException, RequestException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = body.read()) != '\n'; ) {
      if (b < 0) {
        throw RequestException.badField(null, "a JSON line, then the message");
      }
      if (line.size() >= MAX_HEAD) {
        throw new RequestException(413, null, "the JSON line is longer than " + MAX_HEAD);
      }
      line.write(b);
    }
    return line.toByteArray();
  }

  /** The message as sent (the other node stored it as received): only its size is checked. */
  private ContentBuffer read(InputStream body, long maxBytes) throws IOException, RequestException {
    return RawMessage.buffer(
        reception,
        buffer -> {
          OutputStream out = buffer.output();
          byte[] chunk = new byte[16384];
          long written = 0;
          for (int n; (n = body.read(chunk)) >= 0; ) {
            written += n;
            if (written > maxBytes) {
              throw new RequestException(413, null, "the message is larger than " + maxBytes);
            }
            out.write(chunk, 0, n);
          }
          if (written == 0) {
            throw RequestException.badField("message", "no message after the JSON line");
          }
        });
  }

  static Transfer transfer(JsonNode head, ContentBuffer content, String peer)
      throws RequestException {
    JsonNode recipients = head.get("recipients");
    if (recipients == null || !recipients.isArray() || recipients.isEmpty()) {
      throw RequestException.badField("recipients", "a non-empty array of addresses");
    }
    if (recipients.size() > Transfer.MAX_RECIPIENTS) {
      throw RequestException.badField("recipients", "more than " + Transfer.MAX_RECIPIENTS);
    }
    List<String> addresses = new ArrayList<>();
    for (JsonNode recipient : recipients) {
      addresses.add(address("recipients", recipient, false));
    }
    int attempts = head.path("attempts").asInt(0);
    if (attempts < 0 || attempts > 100_000) {
      throw RequestException.badField("attempts", "between 0 and 100000");
    }
    return new Transfer(
        text(head, "source_node", true),
        text(head, "source_id", true),
        address("sender", head.get("sender"), true),
        addresses,
        text(head, "queue", true),
        instant(head, "created"),
        instant(head, "due"),
        attempts,
        content,
        peer);
  }

  /** An envelope address: no controls, no angle brackets, at most 320 characters. */
  private static String address(String field, JsonNode node, boolean mayBeEmpty)
      throws RequestException {
    if (node == null || !node.isTextual()) {
      throw RequestException.badField(field, "an address as a string");
    }
    String value = node.asText();
    boolean plain = value.chars().allMatch(c -> c > 0x20 && c != 0x7f && c != '<' && c != '>');
    if ((value.isEmpty() && !mayBeEmpty)
        || value.length() > 320
        || !plain
        || (!value.isEmpty() && value.indexOf('@') < 1)) {
      throw RequestException.badField(
          field, "not an address: " + value.substring(0, Math.min(80, value.length())));
    }
    return value;
  }

  private static String text(JsonNode head, String field, boolean required)
      throws RequestException {
    JsonNode node = head.get(field);
    if (node == null || node.isNull()) {
      if (required) {
        throw RequestException.badField(field, "is required");
      }
      return null;
    }
    String value = node.asText();
    if (value.isBlank() || value.length() > MAX_TEXT || value.chars().anyMatch(c -> c < 0x20)) {
      throw RequestException.badField(field, "a short line of text");
    }
    return value;
  }

  private static Instant instant(JsonNode head, String field) throws RequestException {
    String value = text(head, field, false);
    try {
      return value == null ? null : Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw RequestException.badField(field, "an RFC 3339 time: " + value);
    }
  }
}
