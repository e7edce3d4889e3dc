package org.postilion.queue.manager;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Takes named header fields out of a message's header section, folded continuation lines and all,
 * and returns their unfolded values. The rest of the message is left byte for byte as it was.
 */
final class HeaderEditor {

  /** The message without the removed fields, and the first value of each removed field name. */
  record Result(byte[] content, Map<String, String> removed) {}

  private HeaderEditor() {}

  /**
   * @param names field names to remove, lower-case
   */
  static Result remove(byte[] message, Set<String> names) {
    int headerEnd = headerEnd(message);
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length);
    Map<String, String> removed = new HashMap<>();
    int pos = 0;
    while (pos < headerEnd) {
      int fieldEnd = fieldEnd(message, pos, headerEnd);
      String field = new String(message, pos, fieldEnd - pos, StandardCharsets.ISO_8859_1);
      int colon = field.indexOf(':');
      String name = colon < 0 ? "" : field.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      if (names.contains(name)) {
        removed.putIfAbsent(name, unfold(field.substring(colon + 1)));
      } else {
        out.write(message, pos, fieldEnd - pos);
      }
      pos = fieldEnd;
    }
    out.write(message, headerEnd, message.length - headerEnd);
    return new Result(removed.isEmpty() ? message : out.toByteArray(), removed);
  }

  /** Where the header section ends: after its last CRLF, or the end when no body follows. */
  static int headerEnd(byte[] m) {
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

  /**
   * The end (after CRLF) of the field that starts at {@code start}, continuation lines included.
   */
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

  private static String unfold(String value) {
    return value.replace("\r\n", "").replace("\n", "").trim();
  }
}
