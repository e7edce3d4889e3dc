package org.postilion.api.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's name, for greetings, EHLO/LHLO and Received fields when none is configured. Resolved
 * once per JVM: it takes a forward and a reverse DNS lookup, which on a host missing from its own
 * resolver can take seconds, and half a dozen components ask for it while the server starts.
 */
public final class LocalHost {
  private static final Logger LOG = LoggerFactory.getLogger(LocalHost.class);
  private static final long SLOW_NANOS = 1_000_000_000L;

  private static volatile String resolved;

  private LocalHost() {}

  /** The canonical name of this host, or {@code localhost} when it cannot be told. */
  public static String name() {
    String name = resolved;
    if (name == null) {
      synchronized (LocalHost.class) {
        name = resolved;
        if (name == null) {
          name = resolve();
          resolved = name;
        }
      }
    }
    return name;
  }

  private static String resolve() {
    long start = System.nanoTime();
    String name;
    try {
      name = InetAddress.getLocalHost().getCanonicalHostName();
    } catch (UnknownHostException e) {
      LOG.warn("Cannot tell this host's name ({}); saying localhost instead", e.toString());
      name = "localhost";
    }
    long took = System.nanoTime() - start;
    if (took > SLOW_NANOS) {
      LOG.warn(
          "Finding this host's name ({}) took {} ms: its resolver does not know it; list it in"
              + " /etc/hosts or set the hostname of each listener and protocol",
          name,
          took / 1_000_000);
    }
    return name;
  }
}
