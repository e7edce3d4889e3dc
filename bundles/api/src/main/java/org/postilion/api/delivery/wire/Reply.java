package org.postilion.api.delivery.wire;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.postilion.api.delivery.Response;

/**
 * A reply of an SMTP or LMTP server: its code and lines (without the code).
 *
 * @param lines the text of each line after the code and separator
 */
public record Reply(int code, List<String> lines) {
  /** Longest reply line accepted (RFC 5321 4.5.3.1.5 allows 512 octets; servers overshoot). */
  public static final int MAX_LINE = 4096;

  /** Most lines of one reply. */
  public static final int MAX_LINES = 100;

  public Reply {
    lines = List.copyOf(lines);
  }

  public boolean isPositive() {
    return code >= 200 && code < 400;
  }

  public String text() {
    return String.join(" ", lines);
  }

  /** As a record response, splitting off the enhanced status code when the server gave one. */
  public Response toResponse() {
    String text = text().trim();
    int space = text.indexOf(' ');
    String first = space < 0 ? text : text.substring(0, space);
    if (first.matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
      return Response.of(code, first, space < 0 ? "" : text.substring(space + 1));
    }
    return Response.of(code, null, text);
  }

  /**
   * Reads one reply, all its lines.
   *
   * @throws EOFException when the server closed the connection
   * @throws MalformedReplyException when what came is not a well-formed reply
   */
  public static Reply read(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    int code = -1;
    while (true) {
      String line = readLine(in);
      if (line == null) {
        throw new EOFException("the server closed the connection");
      }
      if (line.length() < 3
          || !Character.isDigit(line.charAt(0))
          || !Character.isDigit(line.charAt(1))
          || !Character.isDigit(line.charAt(2))
          || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
        throw new MalformedReplyException("garbled reply: " + printable(line));
      }
      int lineCode = Integer.parseInt(line.substring(0, 3));
      if (code >= 0 && lineCode != code) {
        throw new MalformedReplyException("inconsistent reply codes: " + printable(line));
      }
      code = lineCode;
      lines.add(line.length() > 4 ? line.substring(4) : "");
      if (lines.size() > MAX_LINES) {
        throw new MalformedReplyException("a reply of more than " + MAX_LINES + " lines");
      }
      if (line.length() == 3 || line.charAt(3) == ' ') {
        return new Reply(code, lines);
      }
    }
  }

  /** A line without its CRLF (a bare LF is accepted); null at the end of the stream. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
      }
      if (line.size() >= MAX_LINE) {
        throw new MalformedReplyException("a reply line longer than " + MAX_LINE + " bytes");
      }
      line.write(b);
    }
    return null;
  }

  private static String printable(String line) {
    String cut = line.length() > 200 ? line.substring(0, 200) + "..." : line;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** What the server sent is not an SMTP reply. */
  public static final class MalformedReplyException extends IOException {
    private static final long serialVersionUID = 1L;

    public MalformedReplyException(String message) {
      super(message);
    }
  }
}
