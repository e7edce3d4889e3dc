package org.postilion.smtp.listener;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.postilion.api.config.LocalHost;

/** A listener's validated settings. */
record ListenerSettings(
    String name,
    String address,
    int port,
    String hostname,
    long maxMessageSize,
    int maxRecipients,
    List<Cidr> relayHosts,
    Set<String> relayDomains,
    int workerThreads,
    int idleTimeoutSeconds,
    int maxConnections) {

  ListenerSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range");
    }
    // MailSizeEsmtpExtension counts in an int.
    if (maxMessageSize <= 0 || maxMessageSize > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "max_message_size must be between 1 and " + Integer.MAX_VALUE + ": " + maxMessageSize);
    }
    if (maxRecipients < 1) {
      throw new IllegalArgumentException("max_recipients must be at least 1: " + maxRecipients);
    }
    if (workerThreads < 1 || idleTimeoutSeconds < 1 || maxConnections < 0) {
      throw new IllegalArgumentException(
          "worker_threads and idle_timeout must be positive, max_connections not negative");
    }
    relayHosts = List.copyOf(relayHosts);
    relayDomains = Set.copyOf(relayDomains);
  }

  static ListenerSettings from(String name, SmtpListener.Config config) {
    String hostname = config.hostname().isBlank() ? LocalHost.name() : config.hostname().trim();
    List<Cidr> relayHosts = new ArrayList<>();
    for (String entry : split(config.relay__hosts())) {
      relayHosts.add(Cidr.parse(entry));
    }
    Set<String> relayDomains =
        split(config.relay__domains()).stream()
            .map(d -> d.toLowerCase(Locale.ROOT))
            .collect(Collectors.toSet());
    return new ListenerSettings(
        name,
        config.address().trim(),
        config.port(),
        hostname,
        config.max__message__size(),
        config.max__recipients(),
        relayHosts,
        relayDomains,
        config.worker__threads(),
        config.idle__timeout(),
        config.max__connections());
  }

  boolean mayRelay(InetAddress client) {
    return relayHosts.stream().anyMatch(network -> network.contains(client));
  }

  boolean acceptsDomain(String domain) {
    return relayDomains.contains(domain.toLowerCase(Locale.ROOT));
  }

  private static List<String> split(String list) {
    return Arrays.stream(list.split("[,\\s]+")).filter(s -> !s.isBlank()).toList();
  }
}
