package org.postilion.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

  private static ClusterSettings parse(String url, String mode, String master, String name) {
    return ClusterSettings.parse(url, mode, master, name, "2", "1s", "30s", "host-a");
  }

  @Test
  void standaloneUrlWithCredentialsAndDatabase() {
    ClusterSettings settings = parse("redis://limits:s%40cret@10.0.0.5:6380/3", "", "", "");
    assertEquals("standalone", settings.mode());
    assertEquals("10.0.0.5", settings.endpoints().get(0).host());
    assertEquals(6380, settings.endpoints().get(0).port());
    assertEquals("limits", settings.user());
    assertEquals("s@cret", settings.password());
    assertEquals(3, settings.database());
    assertEquals("host-a", settings.nodeName());
    assertFalse(settings.tls());
    // What operators see never carries the password.
    assertEquals("redis://10.0.0.5:6380/3", settings.describe());
  }

  @Test
  void passwordOnlyTlsAndDefaultPort() {
    ClusterSettings settings = parse("rediss://:pw@redis.internal", "", "", "node-1");
    assertTrue(settings.tls());
    assertNull(settings.user());
    assertEquals("pw", settings.password());
    assertEquals(6379, settings.endpoints().get(0).port());
    assertEquals("node-1", settings.nodeName());
  }

  @Test
  void sentinelsNeedTheMastersName() {
    ClusterSettings settings =
        parse("redis://10.0.0.1,redis://10.0.0.2:26380", "sentinel", "mymaster", "");
    assertEquals(2, settings.endpoints().size());
    assertEquals(26379, settings.endpoints().get(0).port());
    assertEquals("mymaster", settings.sentinelMaster());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> parse("redis://10.0.0.1", "sentinel", "", ""));
    assertTrue(e.getMessage().startsWith("key redis.sentinel.master"), e.getMessage());
  }

  @Test
  void badValuesNameTheirKey() {
    assertKey("redis.url", () -> parse("", "", "", ""));
    assertKey("redis.url", () -> parse("http://x:1", "", "", ""));
    assertKey("redis.url", () -> parse("redis://a:1,redis://b:2", "", "", ""));
    assertKey("redis.url", () -> parse("redis://a:1,rediss://b:2", "cluster", "", ""));
    assertKey("redis.mode", () -> parse("redis://a:1", "ring", "", ""));
    assertKey("node.name", () -> parse("redis://a:1", "", "", "../../etc"));
    assertKey(
        "fallback.nodes",
        () -> ClusterSettings.parse("redis://a:1", "", "", "", "0", "1s", "30s", "h"));
    assertKey(
        "redis.timeout",
        () -> ClusterSettings.parse("redis://a:1", "", "", "", "2", "soon", "30s", "h"));
    assertKey(
        "lease.ttl", () -> ClusterSettings.parse("redis://a:1", "", "", "", "2", "1s", "0s", "h"));
  }

  @Test
  void durationsAndNodes() {
    ClusterSettings settings =
        ClusterSettings.parse("redis://a:1", "cluster", "", "", "3", "250ms", "10s", "h");
    assertEquals(3, settings.fallbackNodes());
    assertEquals(Duration.ofMillis(250), settings.timeout());
    assertEquals(Duration.ofSeconds(10), settings.leaseTtl());
  }

  private static void assertKey(String key, org.junit.jupiter.api.function.Executable parse) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, parse);
    assertTrue(e.getMessage().startsWith("key " + key + ":"), e.getMessage());
  }
}
