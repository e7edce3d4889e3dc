package org.postilion.delivery.smtp;

import java.util.List;
import org.postilion.api.delivery.ProtocolKey;
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

  /** The {@code smtp.*} keys of a queue file, checked by the queue manager when it is written. */
  static final List<ProtocolKey> KEYS =
      List.of(
          new ProtocolKey(
              "smtp.mx_list",
              "host list",
              "",
              "smarthosts tried in order instead of the domain's MX hosts:"
                  + " host, host:port, [address]:port, comma separated",
              HostSpec::parseList),
          ProtocolKey.integer("smtp.port", DEFAULT_PORT, 1, 65535, "port of the MX hosts"),
          new ProtocolKey(
              "smtp.tls",
              "opportunistic|opportunistic_insecure|required|required_insecure|disabled",
              "opportunistic",
              "STARTTLS: try it (verifying or not), require it, or never use it",
              TlsMode::parse),
          ProtocolKey.bool(
              "smtp.allow_loopback",
              false,
              "deliver to loopback and this server's own listener addresses (tests, local relays)"),
          ProtocolKey.text(
              "smtp.ehlo_name",
              "",
              "name said in EHLO for this queue; else the egress source's, else the protocol's"));

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
