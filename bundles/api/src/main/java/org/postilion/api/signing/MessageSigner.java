package org.postilion.api.signing;

/**
 * Signs messages with DKIM (RFC 6376). Registered with the service property {@code name=dkim} so
 * that policy routes can call it by name.
 */
public interface MessageSigner {

  /**
   * Signs with every configured signature whose domain is the From domain or a parent of it.
   *
   * @return the message with one DKIM-Signature field prepended per signature, or the message
   *     unchanged when none applies
   */
  byte[] signMatching(byte[] message);

  /**
   * Signs with the configured signature for this domain and selector, whatever the From domain.
   *
   * @throws IllegalArgumentException when no signature is configured for them, or its key cannot be
   *     read
   */
  byte[] sign(byte[] message, String domain, String selector);
}
