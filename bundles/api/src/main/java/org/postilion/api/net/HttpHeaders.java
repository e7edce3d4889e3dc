package org.postilion.api.net;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Request headers as operators configure them for the HTTP endpoints the server calls (delivery
 * webhooks, event webhooks): extra headers written {@code Name: value; Name: value}, and the {@code
 * Authorization} header from a bearer token or a user and password.
 */
public final class HttpHeaders {
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private HttpHeaders() {}

  /**
   * Parses {@code Name: value; Name: value}; empty parts are skipped, a later name wins.
   *
   * @throws IllegalArgumentException naming the part that is not a header
   */
  public static Map<String, String> parse(String list) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (list == null) {
      return headers;
    }
    for (String header : list.split(";")) {
      if (header.isBlank()) {
        continue;
      }
      int colon = header.indexOf(':');
      String name = colon <= 0 ? "" : header.substring(0, colon).trim();
      String value = colon <= 0 ? "" : header.substring(colon + 1).trim();
      if (!TOKEN.matcher(name).matches() || value.chars().anyMatch(c -> c < 0x20 && c != '\t')) {
        throw new IllegalArgumentException("not a 'Name: value' header: '" + header.trim() + "'");
      }
      headers.put(name, value);
    }
    return headers;
  }

  /**
   * The {@code Authorization} value: {@code Bearer <token>} when a token is set, else {@code Basic}
   * for a user (and password); {@code null} when neither is set.
   */
  public static String authorization(String bearer, String user, String password) {
    if (bearer != null && !bearer.isBlank()) {
      return "Bearer " + bearer.trim();
    }
    if (user != null && !user.isBlank()) {
      String credentials = user + ":" + (password == null ? "" : password);
      return "Basic "
          + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }
    return null;
  }
}
