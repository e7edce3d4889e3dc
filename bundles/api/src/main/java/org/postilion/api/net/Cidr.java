package org.postilion.api.net;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 network, {@code 10.0.0.0/8} or {@code ::1/128}; a bare address is one host. */
public record Cidr(byte[] network, int prefixLength) {

  /**
   * @throws IllegalArgumentException naming the text when it is not an address or network
   */
  public static Cidr parse(String text) {
    String value = text.trim();
    int slash = value.indexOf('/');
    String address = slash < 0 ? value : value.substring(0, slash);
    // Only literal addresses: a host name here would mean a DNS lookup at every configuration load.
    if (address.isEmpty() || !address.matches("[0-9a-fA-F.:]+")) {
      throw new IllegalArgumentException("not an IP address or network: '" + text + "'");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(address).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address or network: '" + text + "'", e);
    }
    int bits = bytes.length * 8;
    int prefix;
    try {
      prefix = slash < 0 ? bits : Integer.parseInt(value.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad prefix length in '" + text + "'", e);
    }
    if (prefix < 0 || prefix > bits) {
      throw new IllegalArgumentException("prefix length out of range in '" + text + "'");
    }
    return new Cidr(bytes, prefix);
  }

  public boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false;
    }
    int fullBytes = prefixLength / 8;
    for (int i = 0; i < fullBytes; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int remainingBits = prefixLength % 8;
    if (remainingBits == 0) {
      return true;
    }
    int mask = 0xFF << (8 - remainingBits);
    return (candidate[fullBytes] & mask) == (network[fullBytes] & mask);
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
    } catch (UnknownHostException e) {
      throw new IllegalStateException("a network of 4 or 16 bytes is an address", e);
    }
  }
}
