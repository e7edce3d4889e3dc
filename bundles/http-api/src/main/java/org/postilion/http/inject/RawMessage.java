package org.postilion.http.inject;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.NoRoomException;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.http.web.RequestException;

/**
 * The body of {@code POST /api/inject/raw/v1}: streamed into a reception buffer as it arrives (so
 * no message is held whole in the heap), bare LF turned into CRLF, refused with 413 beyond the size
 * limit and with 503 when the server has no room for it.
 */
final class RawMessage {
  private static final Pattern FIRST_HEADER = Pattern.compile("^[\\x21-\\x39\\x3b-\\x7e]+:");

  private RawMessage() {}

  /**
   * Reads the message into a new buffer of {@code reception}'s; the caller closes it.
   *
   * @throws RequestException 413 over {@code maxBytes}, 400 for a body that is not a message, 503
   *     when there is no room
   */
  static ContentBuffer read(InputStream body, long maxBytes, Reception reception)
      throws IOException, RequestException {
    return buffer(
        reception,
        buffer -> {
          copy(body, buffer.output(), maxBytes);
          checkStart(buffer);
        });
  }

  /** Writes a request's message into a buffer; throws to refuse it. */
  @FunctionalInterface
  interface Fill {
    void into(ContentBuffer buffer) throws IOException, RequestException;
  }

  /**
   * A new buffer of {@code reception}'s filled by {@code fill}; the caller closes it. A buffer that
   * could not be filled is closed here.
   *
   * @throws RequestException what {@code fill} throws, 503 when there is no room
   */
  static ContentBuffer buffer(Reception reception, Fill fill) throws IOException, RequestException {
    ContentBuffer buffer;
    try {
      buffer = reception.buffer();
    } catch (ReceptionException e) {
      throw new RequestException(503, null, e.response().toString());
    }
    try {
      fill.into(buffer);
      return buffer;
    } catch (IOException | RequestException | RuntimeException e) {
      buffer.close();
      if (e instanceof NoRoomException) {
        throw new RequestException(503, null, "insufficient system storage, try again later");
      }
      throw e;
    }
  }

  /** Copies with bare LF made CRLF; counts the bytes as they will be stored. */
  static void copy(InputStream in, OutputStream out, long maxBytes)
      throws IOException, RequestException {
    byte[] input = new byte[16384];
    byte[] output = new byte[2 * input.length];
    long written = 0;
    boolean afterCr = false;
    for (int n; (n = in.read(input)) >= 0; ) {
      int length = 0;
      for (int i = 0; i < n; i++) {
        byte b = input[i];
        if (b == '\n' && !afterCr) {
          output[length++] = '\r';
        }
        output[length++] = b;
        afterCr = b == '\r';
      }
      written += length;
      if (written > maxBytes) {
        throw new RequestException(413, null, "the message is larger than " + maxBytes + " bytes");
      }
      out.write(output, 0, length);
    }
  }

  private static void checkStart(ContentBuffer buffer) throws IOException, RequestException {
    byte[] start;
    try (InputStream in = buffer.open()) {
      start = in.readNBytes(1000);
    }
    if (!FIRST_HEADER.matcher(new String(start, StandardCharsets.ISO_8859_1)).find()) {
      throw RequestException.badField("body", "an RFC 5322 message starting with a header field");
    }
  }
}
