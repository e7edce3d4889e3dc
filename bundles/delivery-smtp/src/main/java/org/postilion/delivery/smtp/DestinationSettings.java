package org.postilion.delivery.smtp;

import java.util.List;
import org.postilion.api.queue.QueueConfig;

/**
 * What a queue configuration says about SMTP delivery: the {@code smtp.*} keys of its cfg file.
 *
 * @param mxList smarthosts tried in order instead of MX resolution; empty to resolve MX
 */
record DestinationSettings(
    List<HostSpec> mxList,
    int port,
    TlsMode tls,
    int connectionLimit,
    int maxDeliveriesPerConnection,
    boolean allowLoopback,
    String ehloName) {

  static final int DEFAULT_PORT = 25;
  static final int DEFAULT_CONNECTION_LIMIT = 32;
  static final int DEFAULT_MAX_DELIVERIES_PER_CONNECTION = 1024;

  /**
   * @throws IllegalArgumentException naming the key whose value is wrong
   */
  static DestinationSettings from(QueueConfig config, String defaultEhloName) {
    String ehlo = config.property("smtp.ehlo_name");
    return new DestinationSettings(
        HostSpec.parseList(config.property("smtp.mx_list")),
        positive(config, "smtp.port", DEFAULT_PORT),
        TlsMode.parse(config.property("smtp.tls")),
        positive(config, "smtp.connection_limit", DEFAULT_CONNECTION_LIMIT),
        positive(
            config, "smtp.max_deliveries_per_connection", DEFAULT_MAX_DELIVERIES_PER_CONNECTION),
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
