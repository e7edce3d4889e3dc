package org.postilion.delivery.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postilion.testkit.DnsResponder;
import org.xbill.DNS.Rcode;

class RouteResolverTest {
  private DnsResponder dns;
  private RouteResolver resolver;

  @BeforeEach
  void start() throws Exception {
    dns = new DnsResponder();
    resolver =
        new RouteResolver(
            SmtpDeliveryProtocol.dnsResolver("127.0.0.1:" + dns.port(), Duration.ofSeconds(2)),
            Clock.systemUTC(),
            new DnsMetrics());
  }

  @AfterEach
  void stop() {
    dns.close();
  }

  private List<String> hostNames(String domain) throws Exception {
    return resolver.mxRoute(domain, 25).get().hosts().stream().map(Route.Host::name).toList();
  }

  private DeliveryFailure failure(String domain) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> resolver.mxRoute(domain, 25).get());
    return assertInstanceOf(DeliveryFailure.class, RouteResolver.rootCause(e));
  }

  @Test
  void countsMxResolutionsAndCacheHitsUnderKumoNames() throws Exception {
    DnsMetrics metrics = new DnsMetrics();
    RouteResolver counted =
        new RouteResolver(
            SmtpDeliveryProtocol.dnsResolver("127.0.0.1:" + dns.port(), Duration.ofSeconds(2)),
            Clock.systemUTC(),
            metrics);
    dns.add("counted.test.", 300, "MX", "10 mx.counted.test.")
        .add("mx.counted.test.", 300, "A", "192.0.2.30");
    double ok = metrics.ok.get();
    double fail = metrics.fail.get();
    double hits = metrics.cacheHit.get();
    double misses = metrics.cacheMiss.get();
    counted.mxRoute("counted.test", 25).get();
    counted.mxRoute("counted.test", 25).get();
    assertThrows(ExecutionException.class, () -> counted.mxRoute("missing.counted.test", 25).get());
    assertEquals(ok + 2, metrics.ok.get());
    assertEquals(fail + 1, metrics.fail.get());
    assertEquals(hits + 1, metrics.cacheHit.get(), "the second lookup came from the cache");
    assertEquals(misses + 2, metrics.cacheMiss.get());
    assertEquals(0, metrics.inProgress.get());
  }

  @Test
  void ordersMxHostsByPreferenceWithAddresses() throws Exception {
    dns.add("example.test.", 300, "MX", "20 backup.example.test.")
        .add("example.test.", 300, "MX", "10 primary.example.test.")
        .add("primary.example.test.", 300, "A", "192.0.2.10")
        .add("primary.example.test.", 300, "AAAA", "2001:db8::10")
        .add("backup.example.test.", 300, "A", "192.0.2.20");
    Route route = resolver.mxRoute("example.test", 25).get();
    assertEquals(List.of("primary.example.test", "backup.example.test"), hostNames("example.test"));
    assertEquals("192.0.2.10", route.hosts().get(0).addresses().get(0).getHostAddress());
    assertEquals(2, route.hosts().get(0).addresses().size(), "IPv4 and IPv6 addresses");
    assertEquals(25, route.hosts().get(0).port());
  }

  @Test
  void equalPreferencesAreTriedInRandomOrder() throws Exception {
    dns.add("spread.test.", 300, "MX", "10 a.spread.test.")
        .add("spread.test.", 300, "MX", "10 b.spread.test.")
        .add("a.spread.test.", 300, "A", "192.0.2.1")
        .add("b.spread.test.", 300, "A", "192.0.2.2");
    Set<String> firsts = new HashSet<>();
    for (int i = 0; i < 40 && firsts.size() < 2; i++) {
      RouteResolver fresh =
          new RouteResolver(
              SmtpDeliveryProtocol.dnsResolver("127.0.0.1:" + dns.port(), Duration.ofSeconds(2)),
              Clock.systemUTC(),
              new DnsMetrics());
      firsts.add(fresh.mxRoute("spread.test", 25).get().hosts().get(0).name());
    }
    assertEquals(Set.of("a.spread.test", "b.spread.test"), firsts);
  }

  @Test
  void fallsBackToTheDomainsAddressWithoutMx() throws Exception {
    dns.add("nomx.test.", 300, "A", "192.0.2.30");
    assertEquals(List.of("nomx.test"), hostNames("nomx.test"));
  }

  @Test
  void nullMxIsPermanent() throws Exception {
    dns.add("nullmx.test.", 300, "MX", "0 .");
    DeliveryFailure failure = failure("nullmx.test");
    assertEquals(556, failure.response().code());
    assertEquals("5.1.10", failure.response().enhancedCode());
  }

  @Test
  void nonexistentDomainIsPermanentAndServerFailureTransient() {
    DeliveryFailure missing = failure("missing.test");
    assertEquals(550, missing.response().code());
    assertEquals("5.1.2", missing.response().enhancedCode());
    dns.rcode("broken.test.", Rcode.SERVFAIL);
    DeliveryFailure broken = failure("broken.test");
    assertTrue(broken.response().isTransientFailure(), broken.response().toString());
    assertEquals("4.4.3", broken.response().enhancedCode());
  }

  @Test
  void aDomainWithNeitherMxNorAddressIsPermanent() throws Exception {
    dns.add("empty.test.", 300, "TXT", "\"v=spf1 -all\"");
    assertEquals(550, failure("empty.test").response().code());
  }

  @Test
  void mxHostsWithoutAddressesAreTransient() throws Exception {
    dns.add("dangling.test.", 300, "MX", "10 gone.dangling.test.");
    assertTrue(failure("dangling.test").response().isTransientFailure());
  }

  @Test
  void aServerThatNeverAnswersIsATransientFailureWithinTheTimeout() throws Exception {
    // A bound socket that reads nothing: queries arrive and are never answered (no ICMP refusal).
    try (java.net.DatagramSocket mute =
        new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
      RouteResolver silent =
          new RouteResolver(
              SmtpDeliveryProtocol.dnsResolver(
                  "127.0.0.1:" + mute.getLocalPort(), Duration.ofMillis(500)),
              Clock.systemUTC(),
              new DnsMetrics());
      long started = System.nanoTime();
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () ->
                  silent
                      .mxRoute("example.test", 25)
                      .get(30, java.util.concurrent.TimeUnit.SECONDS));
      DeliveryFailure failure = assertInstanceOf(DeliveryFailure.class, RouteResolver.rootCause(e));
      assertTrue(failure.response().isTransientFailure(), failure.response().toString());
      assertTrue(
          Duration.ofNanos(System.nanoTime() - started).toSeconds() < 5,
          "the resolver's timeout bounds the wait");
    }
  }

  @Test
  void answersAreCachedForTheirTtl() throws Exception {
    dns.add("cached.test.", 300, "MX", "10 mx.cached.test.")
        .add("mx.cached.test.", 300, "A", "192.0.2.40");
    hostNames("cached.test");
    int afterFirst = dns.queries();
    hostNames("cached.test");
    assertEquals(afterFirst, dns.queries(), "the second lookup is answered from the cache");
  }

  @Test
  void smarthostsKeepTheirOrderAndLiteralsNeedNoDns() throws Exception {
    dns.add("relay.test.", 300, "A", "192.0.2.50");
    Route route =
        resolver
            .hostRoute(HostSpec.parseList("relay.test:2525, [192.0.2.60]:587, [2001:db8::1]"), 25)
            .get();
    assertEquals(3, route.hosts().size());
    assertEquals(2525, route.hosts().get(0).port());
    assertEquals("192.0.2.60", route.hosts().get(1).addresses().get(0).getHostAddress());
    assertEquals(587, route.hosts().get(1).port());
    assertEquals(25, route.hosts().get(2).port());
  }
}
