package org.postilion.api.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {

  private static boolean contains(String cidr, String address) throws Exception {
    return Cidr.parse(cidr).contains(InetAddress.getByName(address));
  }

  @Test
  void matchesIpv4Networks() throws Exception {
    assertTrue(contains("127.0.0.1/32", "127.0.0.1"));
    assertFalse(contains("127.0.0.1/32", "127.0.0.2"));
    assertTrue(contains("10.0.0.0/8", "10.200.3.4"));
    assertTrue(contains("192.168.1.128/25", "192.168.1.200"));
    assertFalse(contains("192.168.1.128/25", "192.168.1.100"));
    assertTrue(contains("0.0.0.0/0", "8.8.8.8"));
    assertTrue(contains("203.0.113.7", "203.0.113.7"));
  }

  @Test
  void matchesIpv6AndKeepsFamiliesApart() throws Exception {
    assertTrue(contains("::1/128", "::1"));
    assertTrue(contains("2001:db8::/32", "2001:db8:1::5"));
    assertFalse(contains("2001:db8::/32", "2001:db9::5"));
    assertFalse(contains("0.0.0.0/0", "::1"));
  }

  @Test
  void refusesHostNamesAndBadPrefixes() {
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("localhost"));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33"));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/x"));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse(""));
  }
}
