package org.postilion.delivery.smtp;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * Keeps the server from sending mail to itself: never to 0.0.0.0 or ::, never to this machine
 * unless the queue allows a loopback smarthost, and even then never to one of its own listeners.
 */
final class LoopGuard {
  private final Supplier<Collection<InetSocketAddress>> listeners;

  LoopGuard(Supplier<Collection<InetSocketAddress>> listeners) {
    this.listeners = listeners;
  }

  /** Why delivery to {@code address:port} would loop, or null when it would not. */
  String refusal(InetAddress address, int port, boolean allowLoopback) {
    if (address.isAnyLocalAddress()) {
      return address.getHostAddress() + " is not a destination";
    }
    if (!isThisMachine(address)) {
      return null;
    }
    if (!allowLoopback) {
      return address.getHostAddress()
          + " is this machine (set smtp.allow_loopback=true for a local smarthost)";
    }
    for (InetSocketAddress listener : listeners.get()) {
      boolean sameAddress =
          listener.getAddress().isAnyLocalAddress()
              || listener.getAddress().equals(address)
              || (listener.getAddress().isLoopbackAddress() && address.isLoopbackAddress());
      if (sameAddress && listener.getPort() == port) {
        return address.getHostAddress() + ":" + port + " is this server's own SMTP listener";
      }
    }
    return null;
  }

  private static boolean isThisMachine(InetAddress address) {
    if (address.isLoopbackAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }
}
