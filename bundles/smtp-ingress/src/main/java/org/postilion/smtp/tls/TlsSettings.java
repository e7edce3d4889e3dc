package org.postilion.smtp.tls;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a listener uses TLS.
 *
 * @param mode off, STARTTLS offered in EHLO, or TLS from the first byte (port 465 style)
 * @param certificate PEM chain, leaf first; null for a self-signed certificate
 * @param privateKey PEM key of the leaf; null for a self-signed certificate
 * @param selfSignedFolder where the self-signed certificate and key are kept between starts
 * @param hostName the name the self-signed certificate is made for
 * @param protocols TLSv1.2 and/or TLSv1.3
 * @param ciphers the enabled cipher suites; empty for the JDK's defaults
 */
public record TlsSettings(
    Mode mode,
    Path certificate,
    Path privateKey,
    Path selfSignedFolder,
    String hostName,
    List<String> protocols,
    List<String> ciphers) {
  private static final Set<String> ALLOWED_PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  public enum Mode {
    OFF,
    STARTTLS,
    IMPLICIT;

    /** As a cfg file spells it: {@code starttls}, {@code implicit} or {@code off}. */
    public String cfgName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "tls.mode must be starttls, implicit or off: " + value, e);
      }
    }
  }

  public TlsSettings {
    protocols = List.copyOf(protocols);
    ciphers = List.copyOf(ciphers);
    if ((certificate == null) != (privateKey == null)) {
      throw new IllegalArgumentException(
          "tls.certificate and tls.private_key go together: set both, or neither for a"
              + " self-signed certificate");
    }
    if (protocols.isEmpty()) {
      throw new IllegalArgumentException("tls.protocols names no protocol");
    }
    for (String protocol : protocols) {
      if (!ALLOWED_PROTOCOLS.contains(protocol)) {
        throw new IllegalArgumentException(
            "tls.protocols may only name TLSv1.2 and TLSv1.3, not " + protocol);
      }
    }
  }

  public boolean selfSigned() {
    return certificate == null;
  }
}
