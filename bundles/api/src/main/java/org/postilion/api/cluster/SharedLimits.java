package org.postilion.api.cluster;

import org.postilion.api.shaping.Rate;

/**
 * Limits shared by every node of a cluster, as KumoMTA keeps them in Redis: message and connection
 * rates, and connection limits as leases that expire when the node holding them dies. Offered by
 * the postilion-cluster bundle while {@code etc/org.postilion.cluster.cfg} names a Redis server.
 *
 * <p>Calls go over the network to Redis, bounded by the configured timeout: callers make them on
 * their own threads (a ready queue's), never on another component's. When Redis does not answer,
 * every call throws {@link Unavailable} at once (after the first failure, until Redis is back) and
 * the caller applies {@link #fallback(int)} of its limits locally.
 */
public interface SharedLimits {

  /** This node's name in the cluster ({@code node.name}). */
  String nodeName();

  /** Whether Redis answered the latest call or health check. */
  boolean available();

  /** This node, its Redis and whether shared limits are in force. */
  ClusterStatus status();

  /**
   * Takes the next slot of a rate shared by all nodes (GCRA, spaced evenly like a local throttle).
   *
   * @param key what the rate limits, the same on every node (a ready queue's name)
   * @return nanoseconds to wait before the event may happen; 0 to go at once
   * @throws Unavailable when Redis does not answer
   */
  long reserve(String key, Rate rate);

  /**
   * Takes one of {@code limit} leases shared by all nodes; the lease is renewed while it is open
   * and expires by itself if this node dies.
   *
   * @return the lease, or {@code null} when all {@code limit} are held
   * @throws Unavailable when Redis does not answer
   */
  Lease acquire(String key, int limit);

  /** The share of a limit this node keeps to while Redis is unreachable: at least 1. */
  int fallback(int limit);

  /** The share of a rate this node keeps to while Redis is unreachable. */
  Rate fallback(Rate rate);

  /** A held lease under a shared connection limit. */
  interface Lease extends AutoCloseable {
    /** Gives the lease back; never throws (a lease Redis did not hear of expires by itself). */
    @Override
    void close();

    /**
     * False once the cluster no longer counts this lease (Redis restarted without persistence and
     * lost it): its session should end after its current message and the next take a new lease.
     */
    default boolean held() {
      return true;
    }
  }

  /** Redis did not answer: apply the fallback limits. */
  final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
