package org.postilion.http.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Reading the API's JSON (Jackson) and writing it (the server's one JSON writer, {@link
 * org.postilion.api.json.Json}: snake_case names, ISO-8601 instants).
 */
public final class Json {
  /** Reads request bodies; answers are written by the server's one writer. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  /**
   * The request body, refused with 413 beyond {@code maxBytes} whether or not the client announced
   * its length.
   */
  public static byte[] body(HttpServletRequest request, long maxBytes)
      throws IOException, RequestException {
    return body(request, maxBytes, null, 1);
  }

  /**
   * The same, reserving {@code factor} bytes of {@code memory} for each byte of the body as it
   * arrives (the body, and what is made of it), so that the request is refused with 503 before it
   * can exhaust the heap.
   */
  public static byte[] body(
      HttpServletRequest request, long maxBytes, MemoryBudget.Reservation memory, int factor)
      throws IOException, RequestException {
    long announced = request.getContentLengthLong();
    if (announced > maxBytes) {
      throw tooLarge(maxBytes);
    }
    if (memory != null && announced > 0) {
      memory.grow(announced * factor);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream(announced > 0 ? (int) announced : 8192);
    byte[] buffer = new byte[16384];
    try (InputStream in = request.getInputStream()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        if (body.size() + n > maxBytes) {
          throw tooLarge(maxBytes);
        }
        if (memory != null && body.size() + n > announced) {
          memory.grow((long) n * factor);
        }
        body.write(buffer, 0, n);
      }
    }
    return body.toByteArray();
  }

  private static RequestException tooLarge(long maxBytes) {
    return new RequestException(413, null, "the body is larger than " + maxBytes + " bytes");
  }

  /** The body as JSON; a syntax error is a 400 that says where. */
  public static JsonNode parse(byte[] body) throws RequestException {
    if (body.length == 0) {
      throw RequestException.badField(null, "the body is empty; a JSON object is expected");
    }
    try {
      return MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      var at = e.getLocation();
      throw RequestException.badField(
          null,
          "malformed JSON"
              + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
              + ": "
              + e.getOriginalMessage());
    } catch (IOException e) {
      throw RequestException.badField(null, "the body cannot be read as JSON: " + e.getMessage());
    }
  }

  public static void write(HttpServletResponse response, int status, Object body)
      throws IOException {
    // The server's one writer, so that an object has the same fields here as in mta:* --json.
    byte[] bytes = org.postilion.api.json.Json.write(body).getBytes(StandardCharsets.UTF_8);
    response.setStatus(status);
    response.setContentType("application/json");
    response.setCharacterEncoding("UTF-8");
    response.setContentLength(bytes.length + 1);
    response.getOutputStream().write(bytes);
    response.getOutputStream().write('\n');
  }

  /** {@code {"error": ..., "field": ...}} with the exception's status. */
  public static void error(HttpServletResponse response, RequestException e) throws IOException {
    write(response, e.status(), errorBody(e.getMessage(), e.field()));
  }

  public static Map<String, Object> errorBody(String message, String field) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", field == null ? message : field + ": " + message);
    if (field != null) {
      body.put("field", field);
    }
    return body;
  }
}
