package org.postilion.delivery.smtp;

import java.net.InetAddress;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Where a message for a domain goes: its MX hosts (or smarthosts) in the order to try, each with
 * its addresses.
 */
record Route(List<Host> hosts) {

  /** One host to try: its name, port and addresses in the order to try. */
  record Host(String name, int port, List<InetAddress> addresses) {}

  /**
   * The destination site: mail for domains that share MX hosts shares connections and limits, as
   * KumoMTA's site_name.
   */
  String siteName() {
    return hosts.stream()
        .map(h -> h.name() + ":" + h.port())
        .sorted()
        .distinct()
        .collect(Collectors.joining(","));
  }
}
