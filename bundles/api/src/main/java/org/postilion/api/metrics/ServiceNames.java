package org.postilion.api.metrics;

import java.util.Locale;

/**
 * KumoMTA's names for a delivery protocol where it shows in names and labels: ready queue names
 * ({@code source->site@smtp_client}), the {@code service} label of its metrics ({@code
 * smtp_client:source->site}). One place, so records, queue names and metrics agree.
 */
public final class ServiceNames {
  private ServiceNames() {}

  /**
   * {@code smtp_client} for SMTP (a protocol service named {@code smtp}, records' {@code ESMTP});
   * other protocols by their name, lower case; {@code admin} for no protocol (mail an operator
   * ended).
   */
  public static String of(String protocol) {
    if (protocol == null) {
      return "admin";
    }
    return switch (protocol) {
      case "ESMTP", "smtp" -> "smtp_client";
      default -> protocol.toLowerCase(Locale.ROOT);
    };
  }
}
