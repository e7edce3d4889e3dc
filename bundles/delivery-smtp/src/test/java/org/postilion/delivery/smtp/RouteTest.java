package org.postilion.delivery.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTest {

  private static Route.Host host(String name, int port) throws Exception {
    return new Route.Host(name, port, List.of(InetAddress.getByName("192.0.2.1")));
  }

  @Test
  void domainsSharingMxHostsShareASiteWhateverTheOrder() throws Exception {
    Route first = new Route(List.of(host("mx1.provider.test", 25), host("mx2.provider.test", 25)));
    Route second = new Route(List.of(host("mx2.provider.test", 25), host("mx1.provider.test", 25)));
    assertEquals(first.siteName(), second.siteName());
    assertEquals("mx1.provider.test:25,mx2.provider.test:25", first.siteName());
  }

  @Test
  void otherHostsOrPortsAreAnotherSite() throws Exception {
    Route first = new Route(List.of(host("mx1.provider.test", 25)));
    assertNotEquals(
        first.siteName(), new Route(List.of(host("mx1.provider.test", 2525))).siteName());
    assertNotEquals(first.siteName(), new Route(List.of(host("mx9.provider.test", 25))).siteName());
  }
}
