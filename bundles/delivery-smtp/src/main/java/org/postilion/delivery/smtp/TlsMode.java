package org.postilion.delivery.smtp;

import java.util.Locale;

/** Outbound STARTTLS policy, KumoMTA's modes under the names of the queue key {@code smtp.tls}. */
enum TlsMode {
  /** STARTTLS when offered, certificate verified; plaintext only when the server offers no TLS. */
  OPPORTUNISTIC(false, true),
  /** STARTTLS when offered, any certificate accepted. */
  OPPORTUNISTIC_INSECURE(false, false),
  /** STARTTLS with a verified certificate, or no delivery. */
  REQUIRED(true, true),
  /** STARTTLS with any certificate, or no delivery. */
  REQUIRED_INSECURE(true, false),
  /** Never STARTTLS. */
  DISABLED(false, false);

  final boolean required;
  final boolean verify;

  TlsMode(boolean required, boolean verify) {
    this.required = required;
    this.verify = verify;
  }

  static TlsMode parse(String value) {
    if (value == null || value.isBlank()) {
      return OPPORTUNISTIC;
    }
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "smtp.tls must be opportunistic, opportunistic_insecure, required, required_insecure or"
              + " disabled, not '"
              + value
              + "'");
    }
  }
}
