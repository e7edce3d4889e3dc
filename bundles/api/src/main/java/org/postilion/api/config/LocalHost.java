package org.postilion.api.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** This host's name, for greetings, EHLO/LHLO and Received fields when none is configured. */
public final class LocalHost {
  private static final Logger LOG = LoggerFactory.getLogger(LocalHost.class);

  private LocalHost() {}

  /** The canonical name of this host, or {@code localhost} when it cannot be told. */
  public static String name() {
    try {
      return InetAddress.getLocalHost().getCanonicalHostName();
    } catch (UnknownHostException e) {
      LOG.warn("Cannot tell this host's name ({}); saying localhost instead", e.toString());
      return "localhost";
    }
  }
}
