package org.postilion.api.shaping;

import java.time.Duration;

/**
 * The limits in force for one ready queue (a destination site and an egress source), from the
 * shaping cfg files, with KumoMTA's names and defaults.
 *
 * @param connectionLimit sessions open at once to the site, per egress source
 * @param maxMessageRate messages sent to the site, per egress source; {@code null} for no limit
 * @param maxConnectionRate new sessions opened to the site; {@code null} for no limit
 * @param maxDeliveriesPerConnection messages over one session before it is closed
 * @param maxReady messages the ready queue holds; more wait in their scheduled queues
 * @param idleTimeout how long an unused session stays open
 * @param shared whether the connection limit and the rates hold across the nodes of a cluster
 *     (through {@link org.postilion.api.cluster.SharedLimits}) rather than per node
 */
public record ShapingSettings(
    int connectionLimit,
    Rate maxMessageRate,
    Rate maxConnectionRate,
    int maxDeliveriesPerConnection,
    int maxReady,
    Duration idleTimeout,
    boolean shared) {

  private static final int DEFAULTS_MAX_READY = 1024;
  private static final Duration DEFAULTS_IDLE_TIMEOUT = Duration.ofSeconds(60);

  /** KumoMTA's egress path defaults. */
  public static final ShapingSettings DEFAULTS =
      new ShapingSettings(32, null, null, 1024, DEFAULTS_MAX_READY, DEFAULTS_IDLE_TIMEOUT, false);

  public ShapingSettings {
    if (connectionLimit < 1) {
      throw new IllegalArgumentException("connection_limit must be at least 1");
    }
    if (maxDeliveriesPerConnection < 1) {
      throw new IllegalArgumentException("max_deliveries_per_connection must be at least 1");
    }
    if (maxReady < 1) {
      throw new IllegalArgumentException("max_ready must be at least 1");
    }
    if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idle_timeout must be positive");
    }
  }

  /** Limits of this node alone. */
  public ShapingSettings(
      int connectionLimit,
      Rate maxMessageRate,
      Rate maxConnectionRate,
      int maxDeliveriesPerConnection,
      int maxReady,
      Duration idleTimeout) {
    this(
        connectionLimit,
        maxMessageRate,
        maxConnectionRate,
        maxDeliveriesPerConnection,
        maxReady,
        idleTimeout,
        false);
  }

  /** The same limits with four of them changed, for tests and older callers. */
  public ShapingSettings(
      int connectionLimit,
      Rate maxMessageRate,
      Rate maxConnectionRate,
      int maxDeliveriesPerConnection) {
    this(
        connectionLimit,
        maxMessageRate,
        maxConnectionRate,
        maxDeliveriesPerConnection,
        DEFAULTS_MAX_READY,
        DEFAULTS_IDLE_TIMEOUT);
  }
}
