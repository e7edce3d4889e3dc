package org.postilion.spool;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The header fields and meta values a message's records capture, in one text column: one entry per
 * line, {@code h} or {@code m}, the name, a tab and the value, with backslash, tab, CR and LF
 * escaped. At most {@link #MAX_LENGTH} characters: entries past it are left out.
 */
final class LogData {
  /** Derby's longest VARCHAR; the capture's own limits keep within it (8,000 + 8,000 escaped). */
  static final int MAX_LENGTH = 32_672;

  private LogData() {}

  /** The column's text, or {@code null} when nothing is captured. */
  static String encode(Map<String, String> headers, Map<String, String> meta) {
    if (headers.isEmpty() && meta.isEmpty()) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    append(out, 'h', headers);
    append(out, 'm', meta);
    return out.toString();
  }

  private static void append(StringBuilder out, char kind, Map<String, String> entries) {
    for (Map.Entry<String, String> entry : entries.entrySet()) {
      StringBuilder line = new StringBuilder().append(kind);
      escape(entry.getKey(), line);
      line.append('\t');
      escape(entry.getValue(), line);
      line.append('\n');
      if (out.length() + line.length() <= MAX_LENGTH) {
        out.append(line);
      }
    }
  }

  private static void escape(String text, StringBuilder out) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        default -> out.append(c);
      }
    }
  }

  /** Headers and meta, in the order written; both empty for {@code null}. */
  static Map<String, String>[] decode(String text) {
    @SuppressWarnings("unchecked")
    Map<String, String>[] maps = new Map[] {new LinkedHashMap<>(), new LinkedHashMap<>()};
    if (text == null) {
      return maps;
    }
    for (String line : text.split("\n")) {
      int tab = line.indexOf('\t');
      if (line.isEmpty() || tab < 1) {
        continue;
      }
      Map<String, String> target = line.charAt(0) == 'h' ? maps[0] : maps[1];
      target.put(unescape(line.substring(1, tab)), unescape(line.substring(tab + 1)));
    }
    return maps;
  }

  private static String unescape(String text) {
    if (text.indexOf('\\') < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != '\\' || i + 1 == text.length()) {
        out.append(c);
        continue;
      }
      char next = text.charAt(++i);
      out.append(
          switch (next) {
            case 't' -> '\t';
            case 'n' -> '\n';
            case 'r' -> '\r';
            default -> next;
          });
    }
    return out.toString();
  }
}
