package org.postilion.api.message;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The header section of an RFC 5322 message, split into fields without copying: each field is a
 * byte range of the message, folded continuation lines and final CRLF included, so that a signer
 * can see the exact bytes and an editor can leave the rest untouched.
 */
public final class HeaderSection {

  /**
   * One header field: bytes {@code [start, end)} of the message.
   *
   * @param name the field name as written, without surrounding white space
   */
  public record Field(String name, int start, int end) {

    /** Whether this field has the given name, compared case-insensitively. */
    public boolean is(String other) {
      return name.equalsIgnoreCase(other);
    }
  }

  private final byte[] message;
  private final List<Field> fields;
  private final int end;

  private HeaderSection(byte[] message, List<Field> fields, int end) {
    this.message = message;
    this.fields = fields;
    this.end = end;
  }

  /** Splits the header section of a message with CRLF line endings. */
  public static HeaderSection parse(byte[] message) {
    int end = headerEnd(message);
    List<Field> fields = new ArrayList<>();
    int pos = 0;
    while (pos < end) {
      int fieldEnd = fieldEnd(message, pos, end);
      int colon = pos;
      while (colon < fieldEnd && message[colon] != ':') {
        colon++;
      }
      String name =
          colon < fieldEnd
              ? new String(message, pos, colon - pos, StandardCharsets.ISO_8859_1).trim()
              : "";
      fields.add(new Field(name, pos, fieldEnd));
      pos = fieldEnd;
    }
    return new HeaderSection(message, List.copyOf(fields), end);
  }

  /** The fields in message order. */
  public List<Field> fields() {
    return fields;
  }

  /** The fields with the given name, in message order. */
  public List<Field> named(String name) {
    return fields.stream().filter(f -> f.is(name)).toList();
  }

  /** Whether a field with the given name exists. */
  public boolean has(String name) {
    return fields.stream().anyMatch(f -> f.is(name));
  }

  /**
   * The message without the fields named in {@code remove} (lower-case names; folded lines go with
   * their field) and with {@code append} (whole fields, CRLF-terminated) at the end of the header
   * section. Everything else stays byte for byte.
   */
  public byte[] edit(Set<String> remove, String append) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + append.length());
    for (Field field : fields) {
      if (!remove.contains(field.name().toLowerCase(Locale.ROOT))) {
        out.write(message, field.start(), field.end() - field.start());
      }
    }
    out.writeBytes(append.getBytes(StandardCharsets.UTF_8));
    out.write(message, end, message.length - end);
    return out.toByteArray();
  }

  /** Where the header section ends: after the CRLF of its last field. */
  public int end() {
    return end;
  }

  /** Where the body starts: after the blank line, or the end of a message without one. */
  public int bodyStart() {
    return Math.min(end + 2, message.length);
  }

  /** The raw bytes of a field, name, folding and final CRLF included. */
  public byte[] raw(Field field) {
    byte[] raw = new byte[field.end() - field.start()];
    System.arraycopy(message, field.start(), raw, 0, raw.length);
    return raw;
  }

  /** The value of a field, unfolded and trimmed; non-ASCII bytes read as UTF-8. */
  public String value(Field field) {
    int colon = field.start();
    while (colon < field.end() && message[colon] != ':') {
      colon++;
    }
    if (colon >= field.end()) {
      return "";
    }
    String value = new String(message, colon + 1, field.end() - colon - 1, StandardCharsets.UTF_8);
    return value.replace("\r\n", "").replace("\n", "").trim();
  }

  /** The first value of the named field, or {@code null}. */
  public String firstValue(String name) {
    return fields.stream().filter(f -> f.is(name)).findFirst().map(this::value).orElse(null);
  }

  private static int headerEnd(byte[] m) {
    if (m.length >= 2 && m[0] == '\r' && m[1] == '\n') {
      return 0;
    }
    for (int i = 0; i + 3 < m.length; i++) {
      if (m[i] == '\r' && m[i + 1] == '\n' && m[i + 2] == '\r' && m[i + 3] == '\n') {
        return i + 2;
      }
    }
    return m.length;
  }

  private static int fieldEnd(byte[] m, int start, int limit) {
    int pos = start;
    while (pos < limit) {
      int lineEnd = pos;
      while (lineEnd < limit && m[lineEnd] != '\n') {
        lineEnd++;
      }
      pos = Math.min(lineEnd + 1, limit);
      if (pos >= limit || (m[pos] != ' ' && m[pos] != '\t')) {
        return pos;
      }
    }
    return limit;
  }
}
