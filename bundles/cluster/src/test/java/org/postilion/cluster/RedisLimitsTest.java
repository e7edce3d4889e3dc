package org.postilion.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.shaping.Rate;
import org.postilion.testkit.RedisServer;
import redis.clients.jedis.Jedis;

/** Two nodes' shared limits in one real Redis (Debian's redis-server, started by the test). */
class RedisLimitsTest {
  @TempDir Path folder;

  private RedisServer server;
  private final List<RedisLimits> nodes = new ArrayList<>();

  @BeforeEach
  void startRedis() throws Exception {
    server = new RedisServer(folder.resolve("redis"));
  }

  @AfterEach
  void stop() throws Exception {
    nodes.forEach(RedisLimits::close);
    server.close();
  }

  private RedisLimits node(String name, String leaseTtl) {
    ClusterSettings settings =
        ClusterSettings.parse(server.url(), "", "", name, "2", "500ms", leaseTtl, "unused");
    RedisLimits limits = new RedisLimits(settings, "id-" + name, Clock.systemUTC(), null);
    nodes.add(limits);
    await(limits::available, "node " + name + " hears Redis");
    return limits;
  }

  @Test
  void aSharedRateSpacesTheSlotsOfBothNodes() {
    RedisLimits a = node("a", "30s");
    RedisLimits b = node("b", "30s");
    Rate rate = Rate.parse("20/s");
    long interval = rate.intervalNanos();
    long[] waits = new long[40];
    for (int i = 0; i < waits.length; i++) {
      // Taken alternately from the two nodes: one schedule, 50 ms apart.
      waits[i] = (i % 2 == 0 ? a : b).reserve("messages:q", rate);
    }
    for (int i = 1; i < waits.length; i++) {
      long gap = waits[i] - waits[i - 1];
      // The time that passes between two calls shortens the gap a little, never lengthens it.
      assertTrue(
          gap > interval - TimeUnit.MILLISECONDS.toNanos(20) && gap <= interval,
          "slot " + i + " came " + gap + " ns after the one before");
    }
    assertTrue(waits[39] > TimeUnit.MILLISECONDS.toNanos(1800), "40 slots span about 2 s");
    // Another key is another schedule.
    assertEquals(0, a.reserve("messages:other", rate));
  }

  @Test
  void connectionLeasesHoldAcrossNodesAndComeBackWhenClosed() {
    RedisLimits a = node("a", "30s");
    RedisLimits b = node("b", "30s");
    List<SharedLimits.Lease> held = new ArrayList<>();
    held.add(a.acquire("sessions:q", 4));
    held.add(b.acquire("sessions:q", 4));
    held.add(a.acquire("sessions:q", 4));
    held.add(b.acquire("sessions:q", 4));
    held.forEach(lease -> assertNotNull(lease));
    assertNull(a.acquire("sessions:q", 4));
    assertNull(b.acquire("sessions:q", 4));
    assertEquals(2, a.status().leases());
    held.get(1).close();
    assertNotNull(a.acquire("sessions:q", 4), "a lease given back by b is a's to take");
    assertNull(b.acquire("sessions:q", 4));
  }

  @Test
  void leasesAreRenewedWhileHeldAndExpireWhenTheirNodeDies() {
    RedisLimits a = node("a", "1s");
    RedisLimits b = node("b", "1s");
    assertNotNull(a.acquire("sessions:q", 1));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
    while (System.nanoTime() < deadline) {
      // Past its lifetime of 1 s more than twice: a's renewals keep it.
      assertNull(b.acquire("sessions:q", 1), "a's lease lapsed while a held it");
      sleep(100);
    }
    a.close();
    await(() -> b.acquire("sessions:q", 1) != null, "a's lease expires once a stops renewing it");
  }

  @Test
  void aLeaseRedisForgotIsNoLongerHeldAndNotTakenAgain() {
    RedisLimits a = node("a", "900ms");
    SharedLimits.Lease kept = a.acquire("sessions:q", 2);
    SharedLimits.Lease forgotten = a.acquire("sessions:q", 2);
    await(() -> a.status().leases() == 2, "two leases held");
    try (Jedis redis = new Jedis("127.0.0.1", server.port())) {
      String key = RedisLimits.PREFIX + "sessions:q";
      List<String> ids = redis.zrange(key, 0, -1);
      assertEquals(2, ids.size(), ids.toString());
      // As after a restart without persistence, Redis no longer has a's second lease.
      String lost = ids.stream().filter(id -> id.endsWith(":2")).findFirst().orElseThrow();
      assertEquals(1, redis.zrem(key, lost));
      await(() -> !forgotten.held(), "the renewal finds the lease gone");
      assertTrue(kept.held());
      assertEquals(1, a.status().leases());
      // Renewals since have not put it back, and giving it back touches nothing.
      sleep(700);
      forgotten.close();
      assertEquals(List.of(), redis.zrange(key, 0, -1).stream().filter(lost::equals).toList());
      assertEquals(1, redis.zcard(key));
    }
  }

  @Test
  void withoutRedisCallsFailAtOnceAndSharingResumesWhenItIsBack() throws Exception {
    RedisLimits a = node("a", "30s");
    Rate rate = Rate.parse("20/s");
    assertEquals(0, a.reserve("messages:q", rate));
    server.stop();
    assertThrows(SharedLimits.Unavailable.class, () -> a.reserve("messages:q", rate));
    assertFalse(a.available());
    long started = System.nanoTime();
    assertThrows(SharedLimits.Unavailable.class, () -> a.acquire("sessions:q", 4));
    assertTrue(
        System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(100),
        "once Redis is known away, calls do not wait for it");
    assertFalse(a.status().shared());
    assertEquals(Rate.parse("20/s").count(), a.fallback(rate).count());
    assertEquals(Duration.ofSeconds(2), a.fallback(rate).period());
    assertEquals(2, a.fallback(4));
    assertEquals(1, a.fallback(1));
    server.start();
    await(a::available, "a hears Redis again");
    assertEquals(0, a.reserve("messages:q", rate));
    assertNotNull(a.acquire("sessions:q", 4));
    assertTrue(a.status().shared());
  }

  @Test
  void aRedisThatRefusesTheScriptsAnswersAndIsNotTakenForAway() {
    // A user that may connect and PING but not run scripts: Redis answers every call, with an
    // error.
    assertEquals("+OK", server.command("ACL SETUSER limited on >secret +@connection"));
    ClusterSettings settings =
        ClusterSettings.parse(
            "redis://limited:secret@127.0.0.1:" + server.port(),
            "",
            "",
            "limited",
            "2",
            "500ms",
            "30s",
            "unused");
    RedisLimits limited = new RedisLimits(settings, "id-limited", Clock.systemUTC(), null);
    nodes.add(limited);
    await(limited::available, "the limited node hears Redis");
    SharedLimits.Unavailable refused =
        assertThrows(
            SharedLimits.Unavailable.class, () -> limited.reserve("messages:q", Rate.parse("5/s")));
    assertTrue(refused.getMessage().contains("refused"), refused.getMessage());
    assertTrue(limited.available(), "a refusal is not an outage");
  }

  @Test
  void throughASentinelTheLimitsLiveInTheMasterItNames() throws Exception {
    try (RedisServer sentinel =
        RedisServer.sentinel(folder.resolve("sentinel"), server, "mymaster")) {
      ClusterSettings settings =
          ClusterSettings.parse(
              "redis://127.0.0.1:" + sentinel.port(),
              "sentinel",
              "mymaster",
              "s",
              "2",
              "1s",
              "30s",
              "unused");
      RedisLimits viaSentinel = new RedisLimits(settings, "id-s", Clock.systemUTC(), null);
      nodes.add(viaSentinel);
      await(viaSentinel::available, "the node finds the master through the Sentinel");
      assertNotNull(viaSentinel.acquire("sessions:q", 1));
      // The lease is in the master, where a node talking to it directly sees it.
      assertNull(node("direct", "30s").acquire("sessions:q", 1));
    }
  }

  @Test
  void onARedisClusterEachLimitIsOneKeyOfItsSlot() throws Exception {
    try (RedisServer cluster =
        new RedisServer(
            folder.resolve("cluster"),
            List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"))) {
      // A cluster of one node that serves every slot.
      assertEquals("+OK", cluster.command("CLUSTER ADDSLOTSRANGE 0 16383"));
      ClusterSettings settings =
          ClusterSettings.parse(
              "redis://127.0.0.1:" + cluster.port(),
              "cluster",
              "",
              "c",
              "2",
              "1s",
              "30s",
              "unused");
      RedisLimits onCluster = new RedisLimits(settings, "id-c", Clock.systemUTC(), null);
      nodes.add(onCluster);
      Rate rate = Rate.parse("10/s");
      await(
          () -> {
            try {
              return onCluster.available() && onCluster.reserve("messages:warmup", rate) >= 0;
            } catch (SharedLimits.Unavailable e) {
              return false;
            }
          },
          "the cluster serves its slots");
      assertEquals(0, onCluster.reserve("messages:q", rate));
      long second = onCluster.reserve("messages:q", rate);
      assertTrue(second > TimeUnit.MILLISECONDS.toNanos(80), "one slot 100 ms after the first");
      assertNotNull(onCluster.acquire("sessions:q", 1));
      assertNull(onCluster.acquire("sessions:q", 1));
    }
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      sleep(50);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
