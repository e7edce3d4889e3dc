package org.postilion.http.inject;

import java.util.regex.Pattern;

/**
 * Checks envelope addresses given over HTTP as strictly as the SMTP listener does: a dot-atom or
 * quoted local part, a host name or an address literal, within RFC 5321's length limits. Non-ASCII
 * addresses are refused because outbound SMTPUTF8 is not offered.
 */
final class EmailAddresses {
  private static final Pattern DOT_ATOM =
      Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");
  private static final Pattern QUOTED =
      Pattern.compile("\"([\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\x20-\\x7e])*\"");
  private static final Pattern LABEL =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
  private static final Pattern LITERAL = Pattern.compile("\\[[\\x21-\\x5a\\x5e-\\x7e]+\\]");

  private EmailAddresses() {}

  /** Why {@code address} is not a usable mailbox, or {@code null} when it is. */
  static String problem(String address) {
    if (address == null || address.isEmpty()) {
      return "an address is required";
    }
    if (address.length() > 254) {
      return "longer than 254 characters";
    }
    int at = address.lastIndexOf('@');
    if (at <= 0 || at == address.length() - 1) {
      return "not of the form local-part@domain";
    }
    String local = address.substring(0, at);
    String domain = address.substring(at + 1);
    if (local.length() > 64) {
      return "local part longer than 64 characters";
    }
    if (!DOT_ATOM.matcher(local).matches() && !QUOTED.matcher(local).matches()) {
      return "the local part '" + local + "' is not valid";
    }
    if (LITERAL.matcher(domain).matches()) {
      return null;
    }
    for (String label : domain.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        return "the domain '" + domain + "' is not a valid host name";
      }
    }
    return domain.contains(".") ? null : "the domain '" + domain + "' is not fully qualified";
  }
}
