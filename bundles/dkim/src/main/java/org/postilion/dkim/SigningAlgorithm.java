package org.postilion.dkim;

import java.util.Locale;

/** The DKIM signing algorithms this server produces. */
public enum SigningAlgorithm {
  /** RFC 6376; keys of 1024 bits at least, 2048 recommended. */
  RSA_SHA256("rsa-sha256", "rsa"),
  /** RFC 8463: Ed25519 over the SHA-256 hash of the signed data. */
  ED25519_SHA256("ed25519-sha256", "ed25519");

  private final String tagValue;
  private final String keyType;

  SigningAlgorithm(String tagValue, String keyType) {
    this.tagValue = tagValue;
    this.keyType = keyType;
  }

  /** The name in an {@code a=} tag. */
  public String tagValue() {
    return tagValue;
  }

  /** The {@code k=} of the DNS key record. */
  public String keyType() {
    return keyType;
  }

  /** Parses {@code rsa-sha256} or {@code ed25519-sha256}. */
  public static SigningAlgorithm parse(String text) {
    String wanted = text.trim().toLowerCase(Locale.ROOT);
    for (SigningAlgorithm algorithm : values()) {
      if (algorithm.tagValue.equals(wanted)) {
        return algorithm;
      }
    }
    throw new IllegalArgumentException(
        "unknown algorithm '" + text + "', expected rsa-sha256 or ed25519-sha256");
  }

  @Override
  public String toString() {
    return tagValue;
  }
}
