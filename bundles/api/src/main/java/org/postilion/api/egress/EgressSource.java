package org.postilion.api.egress;

import java.net.InetAddress;

/**
 * Where a delivery leaves from, as KumoMTA's egress_source.
 *
 * @param name the source's name, shown in ready queue names and records
 * @param sourceAddress the local address to bind; {@code null} for the system's choice
 * @param ehloDomain the name to say in EHLO; {@code null} for the protocol's default
 */
public record EgressSource(String name, InetAddress sourceAddress, String ehloDomain) {

  /** The source of mail whose queue names no pool: any local address, the default EHLO name. */
  public static final EgressSource UNSPECIFIED = new EgressSource("unspecified", null, null);
}
