package org.postilion.api.reception;

import java.net.InetSocketAddress;
import java.util.Map;

/**
 * A listener of this server, registered as a service by each ingress so that delivery protocols can
 * refuse to send mail back to the server itself (a mail loop).
 */
public interface LocalListener {

  /** The address and port the listener is bound to. */
  InetSocketAddress boundAddress();

  /** The listener's name: the suffix of its cfg file. */
  default String name() {
    return boundAddress().toString();
  }

  /** Client connections open now. */
  default int connections() {
    return 0;
  }

  /** The largest message the listener takes, in bytes; 0 when it sets no limit of its own. */
  default long maxMessageSize() {
    return 0;
  }

  /**
   * How the listener encrypts, for operators: its TLS mode, the certificate in use and its end of
   * validity, and why changed certificate files were refused; {@code off} without TLS.
   */
  default String tls() {
    return "off";
  }

  /** How often the listener refused a client or command, by {@link Refusal#reason()}. */
  default Map<String, Long> refusalCounts() {
    return Map.of();
  }
}
