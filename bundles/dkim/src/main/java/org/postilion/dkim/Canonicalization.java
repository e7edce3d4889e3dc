package org.postilion.dkim;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
    BodyCanonicalizer canonical = new BodyCanonicalizer(this, out);
    try {
      canonical.write(message, start, message.length - start);
      canonical.finish();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory does not fail", e);
    }
    return out.toByteArray();
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
