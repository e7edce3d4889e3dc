package org.postilion.api.admin;

import java.util.List;

/**
 * A delivery protocol: installed, or named by a queue configuration and missing.
 *
 * @param provider the bundle that offers it, {@code null} when it is not installed
 * @param queues the scheduled queues with mail that it delivers
 */
public record ProtocolStatus(String name, String provider, List<String> queues) {

  public boolean installed() {
    return provider != null;
  }
}
