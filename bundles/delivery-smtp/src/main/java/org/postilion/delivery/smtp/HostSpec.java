package org.postilion.delivery.smtp;

import java.util.ArrayList;
import java.util.List;

/**
 * One entry of {@code smtp.mx_list}: {@code host}, {@code host:port}, {@code [ip]} or {@code
 * [ip]:port}, as KumoMTA writes them. A bracketed address is used as is, without DNS.
 *
 * @param port the port, or 0 for the destination's default
 */
record HostSpec(String host, int port, boolean literal) {

  static List<HostSpec> parseList(String list) {
    List<HostSpec> hosts = new ArrayList<>();
    if (list == null) {
      return hosts;
    }
    for (String entry : list.split(",")) {
      if (!entry.isBlank()) {
        hosts.add(parse(entry.trim()));
      }
    }
    return hosts;
  }

  static HostSpec parse(String entry) {
    String host;
    String rest;
    boolean literal = entry.startsWith("[");
    if (literal) {
      int close = entry.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException("smtp.mx_list: unclosed '[' in '" + entry + "'");
      }
      host = entry.substring(1, close);
      rest = entry.substring(close + 1);
    } else {
      int colon = entry.lastIndexOf(':');
      host = colon < 0 ? entry : entry.substring(0, colon);
      rest = colon < 0 ? "" : entry.substring(colon);
    }
    int port = 0;
    if (!rest.isEmpty()) {
      if (!rest.startsWith(":")) {
        throw new IllegalArgumentException("smtp.mx_list: bad entry '" + entry + "'");
      }
      try {
        port = Integer.parseInt(rest.substring(1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("smtp.mx_list: bad port in '" + entry + "'", e);
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("smtp.mx_list: port out of range in '" + entry + "'");
      }
    }
    if (host.isBlank()) {
      throw new IllegalArgumentException("smtp.mx_list: empty host in '" + entry + "'");
    }
    return new HostSpec(host, port, literal);
  }
}
