package org.postilion.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/** The two canonicalization algorithms of RFC 6376 section 3.4, for header fields and bodies. */
public enum Canonicalization {
  SIMPLE,
  RELAXED;

  private static final byte[] CRLF = {'\r', '\n'};

  /** The name in a {@code c=} tag. */
  public String tagValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code simple} or {@code relaxed}. */
  public static Canonicalization parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "simple" -> SIMPLE;
      case "relaxed" -> RELAXED;
      default ->
          throw new IllegalArgumentException(
              "unknown canonicalization '" + text + "', expected simple or relaxed");
    };
  }

  /**
   * A header field in canonical form.
   *
   * @param field the field as it appears, name to final CRLF (or without a final CRLF for a
   *     DKIM-Signature field being signed)
   */
  public byte[] header(byte[] field) {
    if (this == SIMPLE) {
      return field;
    }
    int colon = indexOf(field, (byte) ':');
    String name =
        new String(field, 0, colon, StandardCharsets.ISO_8859_1).trim().toLowerCase(Locale.ROOT);
    ByteArrayOutputStream out = new ByteArrayOutputStream(field.length);
    out.writeBytes(name.getBytes(StandardCharsets.ISO_8859_1));
    out.write(':');
    // Unfold, turn each run of white space into one space, drop it at both ends of the value.
    boolean pendingSpace = false;
    boolean started = false;
    for (int i = colon + 1; i < field.length; i++) {
      byte b = field[i];
      if (b == '\r' || b == '\n') {
        continue;
      }
      if (b == ' ' || b == '\t') {
        pendingSpace = started;
        continue;
      }
      if (pendingSpace) {
        out.write(' ');
        pendingSpace = false;
      }
      out.write(b);
      started = true;
    }
    out.writeBytes(CRLF);
    return out.toByteArray();
  }

  /** The body (bytes {@code [start, message.length)}) in canonical form. */
  public byte[] body(byte[] message, int start) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length - start + 2);
    int pos = start;
    while (pos < message.length) {
      int lineEnd = pos;
      while (lineEnd < message.length
          && !(message[lineEnd] == '\r'
              && lineEnd + 1 < message.length
              && message[lineEnd + 1] == '\n')) {
        lineEnd++;
      }
      if (this == SIMPLE) {
        out.write(message, pos, lineEnd - pos);
      } else {
        writeRelaxedLine(out, message, pos, lineEnd);
      }
      out.writeBytes(CRLF);
      pos = Math.min(lineEnd + 2, message.length);
    }
    byte[] body = out.toByteArray();
    int length = body.length;
    // Trailing empty lines are ignored; a body that had only those is empty.
    while (length >= 4
        && body[length - 1] == '\n'
        && body[length - 2] == '\r'
        && body[length - 3] == '\n'
        && body[length - 4] == '\r') {
      length -= 2;
    }
    if (length == 2 && body[0] == '\r' && body[1] == '\n') {
      length = 0;
    }
    if (length == 0) {
      // RFC 6376 3.4.3: an empty body is one CRLF in simple form; 3.4.4: nothing in relaxed form.
      return this == SIMPLE ? CRLF.clone() : new byte[0];
    }
    return length == body.length ? body : Arrays.copyOf(body, length);
  }

  private static void writeRelaxedLine(
      ByteArrayOutputStream out, byte[] message, int from, int to) {
    int end = to;
    while (end > from && (message[end - 1] == ' ' || message[end - 1] == '\t')) {
      end--;
    }
    boolean inSpace = false;
    for (int i = from; i < end; i++) {
      byte b = message[i];
      if (b == ' ' || b == '\t') {
        if (!inSpace) {
          out.write(' ');
          inSpace = true;
        }
      } else {
        out.write(b);
        inSpace = false;
      }
    }
  }

  private static int indexOf(byte[] bytes, byte wanted) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == wanted) {
        return i;
      }
    }
    throw new IllegalArgumentException("a header field without a colon");
  }
}
