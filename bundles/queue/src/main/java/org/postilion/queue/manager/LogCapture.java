package org.postilion.queue.manager;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.postilion.api.message.HeaderSection;

/**
 * Which header fields and meta values every record of a message carries, as KumoMTA's log {@code
 * headers} and {@code meta} options: captured once at reception (after the reception filters, so a
 * policy route's meta is there) and kept with the message in the spool. A name ending in {@code *}
 * captures every field with that prefix ({@code X-*}). The client's text is bounded: at most {@link
 * #MAX_FIELDS} values of each kind, each cut at {@link #MAX_VALUE} characters, {@link #MAX_TOTAL}
 * characters in all.
 */
final class LogCapture {
  static final LogCapture NONE = new LogCapture(List.of(), List.of());

  static final int MAX_FIELDS = 32;
  static final int MAX_VALUE = 1000;

  /**
   * Characters of names and values kept of each kind, headers and meta: the spool's column holds
   * both even when every character needs escaping.
   */
  static final int MAX_TOTAL = 8000;

  private static final int MAX_NAMES = 64;

  /** Lower-case names; a prefix pattern keeps its {@code *}. */
  private final List<String> headers;

  private final List<String> meta;

  private LogCapture(List<String> headers, List<String> meta) {
    this.headers = headers;
    this.meta = meta;
  }

  /**
   * @param headers the {@code log_headers} setting: field names, comma separated
   * @param meta the {@code log_meta} setting: meta names, comma separated
   * @throws IllegalArgumentException naming the key whose value is not a list of names
   */
  static LogCapture parse(String headers, String meta) {
    return new LogCapture(names("log_headers", headers), names("log_meta", meta));
  }

  private static List<String> names(String key, String value) {
    List<String> names = new ArrayList<>();
    for (String part : (value == null ? "" : value).split(",")) {
      String name = part.trim();
      if (name.isEmpty()) {
        continue;
      }
      // Header field names are printable ASCII without a colon (RFC 5322 2.2); no spaces either.
      if (!name.matches("[!-9;-~&&[^*]]+\\*?") && !name.equals("*")) {
        throw new IllegalArgumentException(key + ": not a field name: " + name);
      }
      names.add(name.toLowerCase(Locale.ROOT));
    }
    if (names.size() > MAX_NAMES) {
      throw new IllegalArgumentException(key + ": at most " + MAX_NAMES + " names");
    }
    return List.copyOf(names);
  }

  boolean capturesNothing() {
    return headers.isEmpty() && meta.isEmpty();
  }

  /** The configured fields of a header section, first occurrence of each, in message order. */
  Map<String, String> headers(byte[] head) {
    if (headers.isEmpty()) {
      return Map.of();
    }
    Map<String, String> captured = new LinkedHashMap<>();
    HeaderSection section = HeaderSection.parse(head);
    int total = 0;
    for (HeaderSection.Field field : section.fields()) {
      String name = field.name();
      if (captured.containsKey(name) || !wanted(headers, name.toLowerCase(Locale.ROOT))) {
        continue;
      }
      String value = cut(section.value(field));
      total += name.length() + value.length();
      if (captured.size() >= MAX_FIELDS || total > MAX_TOTAL) {
        break;
      }
      captured.put(name, value);
    }
    return captured;
  }

  /** The configured meta values that are set. */
  Map<String, String> meta(Map<String, String> values) {
    if (meta.isEmpty() || values.isEmpty()) {
      return Map.of();
    }
    Map<String, String> captured = new LinkedHashMap<>();
    int total = 0;
    for (Map.Entry<String, String> entry : values.entrySet()) {
      String name = entry.getKey();
      if (entry.getValue() == null || !wanted(meta, name.toLowerCase(Locale.ROOT))) {
        continue;
      }
      String value = cut(entry.getValue());
      total += name.length() + value.length();
      if (captured.size() >= MAX_FIELDS || total > MAX_TOTAL) {
        break;
      }
      captured.put(cut(name), value);
    }
    return captured;
  }

  private static boolean wanted(List<String> names, String name) {
    for (String wanted : names) {
      if (wanted.endsWith("*")
          ? name.startsWith(wanted.substring(0, wanted.length() - 1))
          : name.equals(wanted)) {
        return true;
      }
    }
    return false;
  }

  private static String cut(String value) {
    return value.length() <= MAX_VALUE ? value : value.substring(0, MAX_VALUE);
  }
}
