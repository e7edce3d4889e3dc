package org.postilion.api.queue;

import java.time.Duration;
import java.util.Map;
import org.postilion.api.shaping.Rate;

/**
 * The configuration in force for one scheduled queue: which protocol delivers it, its retry
 * schedule, and the protocol's own keys (for example {@code maildir.path}), as the cfg file gave
 * them.
 *
 * @param source the name of the configuration that matched, for logs and records
 * @param egressPool the egress pool deliveries leave from; {@code null} for the unspecified source
 * @param maxMessageRate how fast this queue may send, over all its destinations; {@code null} for
 *     no limit of its own
 */
public record QueueConfig(
    String source,
    String protocol,
    RetrySchedule retry,
    Duration maxAge,
    String egressPool,
    Rate maxMessageRate,
    Map<String, String> properties) {

  public static final String DEFAULT_PROTOCOL = "smtp";
  public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(7);

  public QueueConfig {
    properties = Map.copyOf(properties);
  }

  /** A protocol key, or {@code null} when the cfg does not set it. */
  public String property(String key) {
    return properties.get(key);
  }
}
