package org.postilion.delivery.smtp;

import java.util.List;
import org.postilion.api.queue.QueueConfig;

/**
 * What a queue configuration says about SMTP delivery: the {@code smtp.*} keys of its cfg file. How
 * fast and over how many connections mail goes is not here: that is traffic shaping, asked per
 * destination.
 *
 * @param mxList smarthosts tried in order instead of MX resolution; empty to resolve MX
 */
record DestinationSettings(
    List<HostSpec> mxList, int port, TlsMode tls, boolean allowLoopback, String ehloName) {

  static final int DEFAULT_PORT = 25;

  /** Keys that moved to the shaping cfg files; a queue that still sets them is told so. */
  static final List<String> MOVED_KEYS =
      List.of("smtp.connection_limit", "smtp.max_deliveries_per_connection");

  /**
   * @throws IllegalArgumentException naming the key whose value is wrong
   */
  static DestinationSettings from(QueueConfig config, String defaultEhloName) {
    String ehlo = config.property("smtp.ehlo_name");
    return new DestinationSettings(
        HostSpec.parseList(config.property("smtp.mx_list")),
        positive(config, "smtp.port", DEFAULT_PORT),
        TlsMode.parse(config.property("smtp.tls")),
        Boolean.parseBoolean(config.property("smtp.allow_loopback")),
        ehlo == null || ehlo.isBlank() ? defaultEhloName : ehlo.trim());
  }

  private static int positive(QueueConfig config, String key, int fallback) {
    String value = config.property(key);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      int number = Integer.parseInt(value.trim());
      if (number < 1) {
        throw new IllegalArgumentException(key + " must be at least 1, not " + number);
      }
      return number;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " is not a number: '" + value + "'", e);
    }
  }
}
