package org.postilion.bounce.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Header fields in order, names compared without case. Values are kept as received (cut at {@link
 * #MAX_VALUE}) and their RFC 2047 encoded words decoded only when asked for: decoding is costly on
 * hostile input, and few fields are ever read.
 */
final class Headers {
  private static final int MAX_FIELDS = 2000;
  static final int MAX_VALUE = 8192;

  private record Field(String name, String value) {}

  private final List<Field> fields = new ArrayList<>();

  void add(String name, String value) {
    if (fields.size() < MAX_FIELDS) {
      fields.add(
          new Field(
              name.trim(), value.length() > MAX_VALUE ? value.substring(0, MAX_VALUE) : value));
    }
  }

  /** The first value of the field, decoded, or {@code null}. */
  String get(String name) {
    for (Field field : fields) {
      if (field.name().equalsIgnoreCase(name)) {
        return decode(field.value());
      }
    }
    return null;
  }

  List<String> all(String name) {
    List<String> values = new ArrayList<>();
    for (Field field : fields) {
      if (field.name().equalsIgnoreCase(name)) {
        values.add(decode(field.value()));
      }
    }
    return values;
  }

  /** Every field in order, as received. */
  void forEach(java.util.function.BiConsumer<String, String> action) {
    for (Field field : fields) {
      action.accept(field.name(), field.value());
    }
  }

  private static String decode(String value) {
    if (!value.contains("=?")) {
      return value.trim();
    }
    try {
      String clipped = value.length() > 2048 ? value.substring(0, 2048) : value;
      return org.apache.james.mime4j.codec.DecoderUtil.decodeEncodedWords(
              clipped, org.apache.james.mime4j.codec.DecodeMonitor.SILENT)
          .trim();
    } catch (RuntimeException e) {
      return value.trim();
    }
  }

  /** The fields as text, one {@code Name: value} line each. */
  String text() {
    StringBuilder text = new StringBuilder();
    for (Field field : fields) {
      text.append(field.name()).append(": ").append(field.value()).append('\n');
    }
    return text.toString();
  }

  boolean isEmpty() {
    return fields.isEmpty();
  }

  /**
   * Reads a block of header fields ({@code Name: value} lines, continuation lines folded in): the
   * fields of a delivery-status or feedback-report part, or of text/rfc822-headers. A line that is
   * not a field is left out.
   */
  static List<Headers> blocks(String text) {
    List<Headers> blocks = new ArrayList<>();
    Headers current = new Headers();
    String name = null;
    StringBuilder value = new StringBuilder();
    for (String line : text.split("\r?\n", -1)) {
      boolean continuation = !line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t');
      if (continuation && name != null) {
        value.append(' ').append(line.trim());
        continue;
      }
      if (name != null) {
        current.add(name, value.toString().trim());
        name = null;
      }
      if (line.isBlank()) {
        if (!current.isEmpty()) {
          blocks.add(current);
          current = new Headers();
        }
        continue;
      }
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).matches("[!-9;-~]+")) {
        name = line.substring(0, colon);
        value.setLength(0);
        value.append(line.substring(colon + 1));
      }
    }
    if (name != null) {
      current.add(name, value.toString().trim());
    }
    if (!current.isEmpty()) {
      blocks.add(current);
    }
    return blocks;
  }
}
