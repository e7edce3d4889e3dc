package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.postilion.testkit.KumoRecordShape;
import org.postilion.testkit.RedisServer;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two nodes (two distributions, started by the test as an operator starts them) and one real Redis:
 * limits marked shared hold for both nodes together, measured at the sinks; each node keeps to half
 * of them while Redis is away, and they are shared again once it is back.
 */
public class ClusterIT {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterIT.class);
  private static final String RATE = "20/s";
  private static final double PER_SECOND = 20;

  private static RedisServer redis;
  private static Distribution a;
  private static Distribution b;
  private static final TestSmtpServer[] SINKS = new TestSmtpServer[4];

  /** Sinks by domain: shared rate, the same rate per node, shared connection limit, fallback. */
  private static final String[] DOMAINS = {"rate.test", "local.test", "conn.test", "fallback.test"};

  @BeforeClass
  public static void startCluster() throws Exception {
    Path folder = Path.of("target/cluster-" + System.nanoTime()).toAbsolutePath();
    redis = new RedisServer(folder.resolve("redis"));
    for (int i = 0; i < SINKS.length; i++) {
      SINKS[i] = new TestSmtpServer(null);
    }
    // The connection-limit sink takes its time over each message, so sessions overlap.
    SINKS[2].replies(command -> command.equals(".") ? slowly("250 2.0.0 taken") : null);
    a = node(folder.resolve("a"), "node-a");
    b = node(folder.resolve("b"), "node-b");
    Distribution.startAll(Distribution.BOOT, a, b);
    for (Distribution node : List.of(a, b)) {
      await(
          () -> node.log().contains("answers: limits marked shared hold across the cluster"),
          Duration.ofSeconds(30),
          "the node hears Redis");
    }
  }

  private static Distribution node(Path folder, String name) throws Exception {
    Distribution node = Distribution.unpack(folder);
    node.setting("org.postilion.cluster.cfg", "redis.url", redis.url());
    node.setting("org.postilion.cluster.cfg", "node.name", name);
    node.setting("org.postilion.cluster.cfg", "fallback.nodes", "2");
    node.setting("org.postilion.cluster.cfg", "lease.ttl", "10s");
    for (int i = 0; i < DOMAINS.length; i++) {
      String file = "org.postilion.queue-" + DOMAINS[i].replace('.', '-') + ".cfg";
      node.setting(file, "match.domain", DOMAINS[i]);
      node.setting(file, "protocol", "smtp");
      node.setting(file, "smtp.mx_list", "[127.0.0.1]:" + SINKS[i].port());
      node.setting(file, "smtp.allow_loopback", "true");
      node.setting(file, "smtp.tls", "disabled");
    }
    shaping(node, "rate.test", "max_message_rate", RATE, true);
    shaping(node, "local.test", "max_message_rate", RATE, false);
    shaping(node, "conn.test", "connection_limit", "4", true);
    // An idle session gives its lease back soon, for the other node to take.
    node.setting("org.postilion.queue.shaping-conn-test.cfg", "idle_timeout", "1s");
    shaping(node, "fallback.test", "max_message_rate", RATE, true);
    return node;
  }

  private static void shaping(
      Distribution node, String domain, String key, String value, boolean shared)
      throws IOException {
    String file = "org.postilion.queue.shaping-" + domain.replace('.', '-') + ".cfg";
    node.setting(file, "match.domain", domain);
    node.setting(file, key, value);
    node.setting(file, "shared", Boolean.toString(shared));
  }

  @AfterClass
  public static void stopCluster() throws Exception {
    for (AutoCloseable closing : new AutoCloseable[] {a, b, redis}) {
      if (closing != null) {
        closing.close();
      }
    }
    for (TestSmtpServer sink : SINKS) {
      if (sink != null) {
        sink.close();
      }
    }
  }

  @Test
  public void aSharedRateHoldsForBothNodesTogetherAndAnUnsharedOneForEach() throws Exception {
    // 30 s of mail at either rate waits at both nodes (their queues held) before any of it goes:
    // the rates measured are then the limits', however slowly this machine takes mail in (sending
    // while measuring, a busy CI took in only 31/s for the 40/s unshared queues).
    List<Runnable> releases = new ArrayList<>();
    for (Distribution node : List.of(a, b)) {
      for (String domain : List.of("rate.test", "local.test")) {
        String id = suspend(node, domain);
        releases.add(() -> resume(node, id));
      }
    }
    inject(300, "rate.test", 600, "local.test");
    releases.forEach(Runnable::run);
    // Past the first sessions' opening: both queues deliver at their pace.
    await(() -> SINKS[0].received().size() >= 40, Duration.ofSeconds(60), "40 delivered");
    double[] rates = ratesOver(Duration.ofSeconds(10), SINKS[0], SINKS[1]);
    // Neither ran dry within the window: the rates measured are the limits'.
    assertTrue(
        "delivered " + SINKS[0].received().size() + " and " + SINKS[1].received().size(),
        SINKS[0].received().size() < 600 && SINKS[1].received().size() < 1200);
    double shared = rates[0];
    double local = rates[1];
    LOG.info(
        "Measured at the sinks: shared {}/s, unshared {}/s over both nodes; unshared from node a"
            + " {}, from node b {} in all",
        shared,
        local,
        SINKS[1].received().stream().filter(m -> m.text().contains("@node-a>")).count(),
        SINKS[1].received().stream().filter(m -> m.text().contains("@node-b>")).count());
    assertTrue(
        "shared " + RATE + " over both nodes measured " + shared + "/s",
        Math.abs(shared - PER_SECOND) <= PER_SECOND * 0.2);
    assertTrue(
        "the same rate unshared is each node's: " + local + "/s over both",
        local >= PER_SECOND * 1.6 && local <= PER_SECOND * 2.4);
  }

  @Test
  public void aSharedConnectionLimitHoldsForBothNodesTogether() throws Exception {
    inject(40, "conn.test", 0, null);
    await(() -> SINKS[2].received().size() >= 80, Duration.ofSeconds(90), "80 messages delivered");
    // Both nodes had mail and 4 sessions each would have been theirs alone: 4 is all there were.
    assertEquals(4, SINKS[2].mostConcurrent());
    // Each node's records carry its name from the cluster cfg.
    await(
        () -> !a.records("Delivery", "conn.test").isEmpty(),
        Duration.ofSeconds(30),
        "a Delivery record in node a's event log");
    String delivery = a.records("Delivery", "conn.test").get(0);
    assertEquals("node-a", KumoRecordShape.check(delivery).path("node_name").asText());
    String status = a.client("mta:cluster-status");
    assertTrue(status, status.contains("node-a") && status.contains("shared"));
    assertTrue(status, status.contains(redis.url().substring("redis://".length())));
    String metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    // KumoMTA's histogram of Redis calls: the leases were scripts that succeeded.
    assertTrue(
        metrics,
        metrics.contains(
            "redis_operation_latency_count{operation=\"script\",service=\""
                + redis.url()
                + "\",status=\"ok\"}"));
    assertTrue(
        metrics,
        metrics.matches(
            "(?s).*node_info\\{node_name=\"node-b\",nodeid=\"[-0-9a-f]{36}\"} 1\\.0.*"));
  }

  @Test
  public void withoutRedisEachNodeKeepsToHalfAndSharingResumesWhenItIsBack() throws Exception {
    // 30 s of mail at the shared rate: enough for both windows below.
    inject(300, "fallback.test", 0, null);
    TestSmtpServer sink = SINKS[3];
    await(() -> sink.received().size() >= 20, Duration.ofSeconds(30), "delivery under way");
    redis.stop();
    for (Distribution node : List.of(a, b)) {
      await(
          () -> node.log().contains("does not answer"),
          Duration.ofSeconds(15),
          "the node notices Redis is away");
    }
    double during = rateOver(sink, Duration.ofSeconds(5));
    LOG.info("Measured at the sink without Redis: {}/s over both nodes", during);
    // Each node at 10/s: delivery goes on, and together they stay within the limit.
    assertTrue(
        "without Redis both nodes together delivered " + during + "/s",
        during >= PER_SECOND * 0.6 && during <= PER_SECOND * 1.2);
    String status = b.client("mta:cluster-status");
    assertTrue(status, status.contains("fallback: 1/2"));
    String heard = "answers: limits marked shared hold across the cluster";
    int heardA = occurrences(a.log(), heard);
    int heardB = occurrences(b.log(), heard);
    redis.start();
    for (Distribution node : List.of(a, b)) {
      int before = node == a ? heardA : heardB;
      await(
          () -> occurrences(node.log(), heard) > before,
          Duration.ofSeconds(15),
          "the node hears Redis again");
    }
    double after = rateOver(sink, Duration.ofSeconds(5));
    LOG.info("Measured at the sink with Redis back: {}/s over both nodes", after);
    assertTrue(
        "shared again, both nodes together delivered " + after + "/s",
        after >= PER_SECOND * 0.6 && after <= PER_SECOND * 1.2);
  }

  private static double rateOver(TestSmtpServer sink, Duration window) throws Exception {
    return ratesOver(window, sink)[0];
  }

  /**
   * Messages each sink received per second over the same {@code window}, which starts once every
   * one of them has received a first message.
   */
  private static double[] ratesOver(Duration window, TestSmtpServer... sinks) throws Exception {
    for (TestSmtpServer sink : sinks) {
      await(() -> !sink.received().isEmpty(), Duration.ofSeconds(30), "a first delivery");
    }
    long started = System.nanoTime();
    int[] before = new int[sinks.length];
    for (int i = 0; i < sinks.length; i++) {
      before[i] = sinks[i].received().size();
    }
    Thread.sleep(window.toMillis());
    double seconds = (System.nanoTime() - started) / 1e9;
    double[] rates = new double[sinks.length];
    for (int i = 0; i < sinks.length; i++) {
      rates[i] = (sinks[i].received().size() - before[i]) / seconds;
    }
    return rates;
  }

  /** {@code count} messages for {@code domain} into each node (and as many for another). */
  private static void inject(int count, String domain, int otherCount, String otherDomain)
      throws Exception {
    ExecutorService senders = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (Distribution node : List.of(a, b)) {
        sent.add(senders.submit(() -> send(node, count, domain)));
        if (otherDomain != null) {
          sent.add(senders.submit(() -> send(node, otherCount, otherDomain)));
        }
      }
      for (Future<?> f : sent) {
        f.get(2, TimeUnit.MINUTES);
      }
    } finally {
      senders.shutdownNow();
    }
  }

  private static Void send(Distribution node, int count, String domain) throws IOException {
    try (SmtpClient smtp = new SmtpClient(node.smtpPort())) {
      smtp.hello();
      for (int n = 0; n < count; n++) {
        String reply =
            smtp.sendMessage(
                "sender@itest.example",
                "r" + n + "@" + domain,
                "From: <sender@itest.example>\r\nSubject: cluster "
                    + n
                    + "\r\nMessage-ID: <c"
                    + n
                    + "."
                    + domain
                    + "@"
                    + (node == a ? "node-a" : "node-b")
                    + ">\r\n\r\nbody\r\n");
        if (!reply.startsWith("250")) {
          throw new AssertionError("message " + n + " for " + domain + " refused: " + reply);
        }
      }
    }
    return null;
  }

  /** Holds the domain's mail at the node (KumoMTA's suspend/v1); returns the suspension's id. */
  private static String suspend(Distribution node, String domain) throws Exception {
    HttpResponse<String> held =
        node.admin(
            "POST",
            "suspend/v1",
            "{\"domain\": \"" + domain + "\", \"reason\": \"backlog\", \"duration\": \"10m\"}");
    assertEquals(held.body(), 200, held.statusCode());
    return new ObjectMapper().readTree(held.body()).path("id").asText();
  }

  private static void resume(Distribution node, String id) {
    try {
      HttpResponse<String> resumed = node.admin("DELETE", "suspend/v1", "{\"id\": \"" + id + "\"}");
      assertEquals(resumed.body(), 200, resumed.statusCode());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while resuming " + id, e);
    }
  }

  private static String slowly(String reply) {
    try {
      Thread.sleep(250);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return reply;
  }

  private static int occurrences(String text, String part) {
    int count = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      count++;
    }
    return count;
  }

  private static void await(BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      Thread.sleep(100);
    }
  }
}
