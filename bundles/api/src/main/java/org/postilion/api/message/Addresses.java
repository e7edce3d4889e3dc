package org.postilion.api.message;

import java.util.Locale;

/**
 * Splits envelope addresses. The domain is case-insensitive (RFC 5321 2.4), the local part is not.
 */
public final class Addresses {
  private Addresses() {}

  /**
   * The domain of {@code address}, lower-cased; empty for the null sender or an address without
   * one.
   */
  public static String domainOf(String address) {
    int at = address.lastIndexOf('@');
    return at < 0 ? "" : address.substring(at + 1).toLowerCase(Locale.ROOT);
  }

  /** The local part of {@code address}, as given. */
  public static String localPartOf(String address) {
    int at = address.lastIndexOf('@');
    return at < 0 ? address : address.substring(0, at);
  }
}
