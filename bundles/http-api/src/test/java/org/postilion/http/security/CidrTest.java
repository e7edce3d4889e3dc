package org.postilion.http.security;

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
  void matchesByPrefix() throws Exception {
    assertTrue(contains("10.0.0.0/8", "10.255.1.2"));
    assertFalse(contains("10.0.0.0/8", "11.0.0.1"));
    assertTrue(contains("192.168.4.0/22", "192.168.7.255"));
    assertFalse(contains("192.168.4.0/22", "192.168.8.0"));
    assertTrue(contains("127.0.0.1", "127.0.0.1"));
    assertFalse(contains("127.0.0.1", "127.0.0.2"));
    assertTrue(contains("::1/128", "0:0:0:0:0:0:0:1"));
    assertTrue(contains("2001:db8::/32", "2001:db8:ffff::1"));
    assertFalse(contains("2001:db8::/32", "10.0.0.1"));
    assertTrue(contains("0.0.0.0/0", "203.0.113.9"));
  }

  @Test
  void refusesWhatIsNotABlock() {
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("example.com"));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/33"));
    assertThrows(IllegalArgumentException.class, () -> Cidr.parse("10.0.0.0/x"));
  }
}
