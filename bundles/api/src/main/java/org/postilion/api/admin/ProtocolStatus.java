package org.postilion.api.admin;

import java.util.List;
import org.postilion.api.delivery.ProtocolKey;

/**
 * A delivery protocol: installed, or named by a queue configuration and missing.
 *
 * @param provider the bundle that offers it, {@code null} when it is not installed
 * @param queues the scheduled queues with mail that it delivers
 * @param keys the per-queue keys it declares; empty when it is not installed
 */
public record ProtocolStatus(
    String name, String provider, List<String> queues, List<ProtocolKey> keys) {

  public ProtocolStatus {
    queues = List.copyOf(queues);
    keys = List.copyOf(keys);
  }

  public boolean installed() {
    return provider != null;
  }
}
