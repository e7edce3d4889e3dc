package org.postilion.bounce.report;

import java.util.ArrayList;
import java.util.List;

/** Header fields in order, names compared without case; values unfolded and decoded. */
final class Headers {
  private static final int MAX_FIELDS = 2000;

  private record Field(String name, String value) {}

  private final List<Field> fields = new ArrayList<>();

  void add(String name, String value) {
    if (fields.size() < MAX_FIELDS) {
      fields.add(new Field(name.trim(), value));
    }
  }

  /** The first value of the field, or {@code null}. */
  String get(String name) {
    for (Field field : fields) {
      if (field.name().equalsIgnoreCase(name)) {
        return field.value();
      }
    }
    return null;
  }

  List<String> all(String name) {
    List<String> values = new ArrayList<>();
    for (Field field : fields) {
      if (field.name().equalsIgnoreCase(name)) {
        values.add(field.value());
      }
    }
    return values;
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
