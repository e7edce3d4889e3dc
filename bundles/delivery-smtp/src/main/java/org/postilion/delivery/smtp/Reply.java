package org.postilion.delivery.smtp;

import java.util.List;
import org.postilion.api.delivery.Response;

/** A server reply: its code and lines (without the code). */
record Reply(int code, List<String> lines) {

  boolean isPositive() {
    return code >= 200 && code < 400;
  }

  String text() {
    return String.join(" ", lines);
  }

  /** As a record response, splitting off the enhanced status code when the server gave one. */
  Response toResponse() {
    String text = text().trim();
    int space = text.indexOf(' ');
    String first = space < 0 ? text : text.substring(0, space);
    if (first.matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
      return Response.of(code, first, space < 0 ? "" : text.substring(space + 1));
    }
    return Response.of(code, null, text);
  }
}
