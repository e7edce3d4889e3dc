package org.postilion.api.shaping;

/**
 * The limits in force for one destination (a domain at a site), from the shaping cfg files.
 *
 * @param connectionLimit connections open at once to the site, per egress source
 * @param maxMessageRate messages sent to the site, per egress source; {@code null} for no limit
 * @param maxConnectionRate new connections opened to the site; {@code null} for no limit
 * @param maxDeliveriesPerConnection messages over one connection before it is closed
 */
public record ShapingSettings(
    int connectionLimit,
    Rate maxMessageRate,
    Rate maxConnectionRate,
    int maxDeliveriesPerConnection) {

  /** KumoMTA's egress path defaults. */
  public static final ShapingSettings DEFAULTS = new ShapingSettings(32, null, null, 1024);

  public ShapingSettings {
    if (connectionLimit < 1) {
      throw new IllegalArgumentException("connection_limit must be at least 1");
    }
    if (maxDeliveriesPerConnection < 1) {
      throw new IllegalArgumentException("max_deliveries_per_connection must be at least 1");
    }
  }
}
