package org.postilion.api.reception;

import java.net.InetSocketAddress;

/**
 * A listener of this server, registered as a service by each ingress so that delivery protocols can
 * refuse to send mail back to the server itself (a mail loop).
 */
public interface LocalListener {

  /** The address and port the listener is bound to. */
  InetSocketAddress boundAddress();
}
