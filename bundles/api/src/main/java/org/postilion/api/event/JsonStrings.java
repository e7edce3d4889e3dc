package org.postilion.api.event;

/** JSON string literals, for the event records and for anything else that writes JSON by hand. */
public final class JsonStrings {
  private JsonStrings() {}

  /** Appends {@code value} as a quoted JSON string, escaping what JSON requires. */
  public static StringBuilder appendQuoted(StringBuilder out, String value) {
    out.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"');
  }
}
