package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.postilion.testkit.KumoRecordShape;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Xfer between two nodes (two distributions started by the test): node A holds the mail (its
 * queues' protocol is not installed), node B delivers it to a sink. Every message arrives once and
 * leaves A; without B's credentials nothing leaves A; kill -9 of either node mid-transfer loses
 * nothing.
 */
public class XferIT {
  private static final Logger LOG = LoggerFactory.getLogger(XferIT.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern MESSAGE_ID =
      Pattern.compile("Message-ID: <(x\\d+\\.[a-z.]+)@itest>");

  /** B's delivery sessions to the sink at once: what a kill of B can leave half done. */
  private static final int B_CONNECTIONS = 4;

  /** A's transfers in flight at once (Transfers.THREADS). */
  private static final int A_TRANSFERS = 4;

  private static Distribution a;
  private static Distribution b;
  private static TestSmtpServer sink;

  @BeforeClass
  public static void startNodes() throws Exception {
    Path folder = Path.of("target/xfer-" + System.nanoTime()).toAbsolutePath();
    sink = new TestSmtpServer(null);
    a = Distribution.unpack(folder.resolve("a"));
    b = Distribution.unpack(folder.resolve("b"));
    for (String domain : List.of("xfer.test", "kill.test")) {
      String file = "org.postilion.queue-" + domain.replace('.', '-') + ".cfg";
      a.setting(file, "match.domain", domain);
      // Not installed: the mail waits at A for the transfer.
      a.setting(file, "protocol", "held");
      b.setting(file, "match.domain", domain);
      b.setting(file, "protocol", "smtp");
      b.setting(file, "smtp.mx_list", "[127.0.0.1]:" + sink.port());
      b.setting(file, "smtp.allow_loopback", "true");
      b.setting(file, "smtp.tls", "disabled");
      b.setting(file, "retry.interval", "2s");
    }
    b.setting("org.postilion.queue.shaping-kill-test.cfg", "match.domain", "kill.test");
    b.setting("org.postilion.queue.shaping-kill-test.cfg", "connection_limit", "" + B_CONNECTIONS);
    // B trusts no address: A must authenticate as a user with the admin role.
    b.setting("org.postilion.http.security.cfg", "trusted_hosts", "");
    b.setting("org.postilion.http.security.cfg", "realm", "karaf");
    Distribution.startAll(Distribution.BOOT, a, b);
  }

  @AfterClass
  public static void stopNodes() throws Exception {
    for (AutoCloseable closing : new AutoCloseable[] {a, b, sink}) {
      if (closing != null) {
        closing.close();
      }
    }
  }

  private static String target(boolean credentials) {
    return "http://" + (credentials ? "itest:itest-secret@" : "") + "127.0.0.1:" + b.httpPort();
  }

  @Test
  public void everyMessageMovesOnceAndOnlyWithTheTargetsCredentials() throws Exception {
    int messages = 5000;
    inject(a, "xfer.test", messages);
    awaitHeld(a, "xfer.test", messages);

    JsonNode refused = xfer(a, target(false), "xfer.test");
    assertEquals(messages, refused.path("recipients").asInt());
    await(
        () -> "failed".equals(latestXfer(a).path("state").asText()),
        Duration.ofMinutes(1),
        "the xfer without credentials gives up");
    assertTrue(latestXfer(a).toString(), latestXfer(a).path("last_error").asText().contains("401"));
    awaitHeld(a, "xfer.test", messages);
    assertEquals("nothing reached the sink", 0, received("xfer.test").size());

    long started = System.nanoTime();
    xfer(a, target(true), "xfer.test");
    await(
        () -> received("xfer.test").size() >= messages,
        Duration.ofMinutes(5),
        messages + " messages at the sink");
    LOG.info(
        "{} messages transferred and delivered in {} ms",
        messages,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    await(() -> queuedOrUnknown(a, "xfer.test") == 0, Duration.ofMinutes(1), "A has none left");
    Map<String, Integer> copies = copies(received("xfer.test"));
    assertEquals(messages, copies.size());
    assertTrue("each exactly once", copies.values().stream().allMatch(n -> n == 1));
    await(
        () -> "done".equals(latestXfer(a).path("state").asText()),
        Duration.ofSeconds(30),
        "the xfer is done");
    assertEquals(messages, latestXfer(a).path("transferred").asInt());
    // KumoMTA's record types, each in KumoMTA's shape: XferOut here, XferIn there.
    await(
        () -> a.records("XferOut", "xfer.test").size() == messages,
        Duration.ofSeconds(30),
        messages + " XferOut records at A");
    await(
        () -> b.records("XferIn", "xfer.test").size() == messages,
        Duration.ofSeconds(30),
        messages + " XferIn records at B");
    // B took each once and has delivered each: no copy can come later.
    await(
        () -> b.records("Delivery", "xfer.test").size() == messages,
        Duration.ofSeconds(30),
        messages + " Delivery records at B");
    assertEquals("no copy came later", messages, received("xfer.test").size());
    JsonNode out = KumoRecordShape.check(a.records("XferOut", "xfer.test").get(0));
    assertTrue(
        out.toString(), out.path("response").path("content").asText().contains("transferred to"));
    assertTrue(out.toString(), !out.path("node_name").asText().isBlank());
    JsonNode in = KumoRecordShape.check(b.records("XferIn", "xfer.test").get(0));
    assertEquals("XFER", in.path("reception_protocol").asText());
    assertTrue(in.toString(), !in.path("node_name").asText().isBlank());
  }

  @Test
  public void killingEitherNodeMidTransferLosesNothing() throws Exception {
    int messages = 600;
    inject(a, "kill.test", messages);
    awaitHeld(a, "kill.test", messages);
    xfer(a, target(true), "kill.test");
    await(() -> transferred(a) >= 150, Duration.ofMinutes(2), "150 transferred");
    b.kill();
    // A's transfers fail while B is down: A keeps what it has not handed over.
    await(
        () -> !"running".equals(latestXfer(a).path("state").asText()),
        Duration.ofMinutes(2),
        "A's xfer stops against the dead node");
    b.start(Distribution.BOOT);
    awaitRouted(a, "kill.test");
    xfer(a, target(true), "kill.test");
    await(() -> transferred(a) >= 75, Duration.ofMinutes(2), "75 more transferred");
    a.kill();
    a.start(Distribution.BOOT);
    drain(a, "kill.test");
    await(
        () -> copies(received("kill.test")).size() == messages,
        Duration.ofMinutes(3),
        "every message at the sink");
    int duplicates = received("kill.test").size() - messages;
    LOG.info("{} duplicates after killing B then A mid-transfer", duplicates);
    // At most what was in flight at the kills: A's transfers (twice) and B's deliveries.
    assertTrue(duplicates + " duplicates", duplicates <= 2 * A_TRANSFERS + B_CONNECTIONS);
  }

  /** Starts an xfer whenever none runs, until the node has none of the domain's mail left. */
  private static void drain(Distribution node, String domain) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
    while (queuedOrUnknown(node, domain) != 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the xfer of " + domain + " did not finish within 4 minutes");
      }
      JsonNode latest = latestXfer(node);
      if (queuedOrUnknown(node, domain) > 0
          && (latest == null || !"running".equals(latest.path("state").asText()))) {
        awaitRouted(node, domain);
        xfer(node, target(true), domain);
      }
      Thread.sleep(1000);
    }
  }

  private static int transferred(Distribution node) {
    JsonNode latest = latestXfer(node);
    return latest == null ? 0 : latest.path("transferred").asInt();
  }

  private static JsonNode xfer(Distribution node, String target, String domain) throws Exception {
    String body =
        JSON.writeValueAsString(
            Map.of("target", target, "domain", domain, "reason", "draining " + domain));
    HttpResponse<String> response = node.admin("POST", "xfer/v1", body);
    assertEquals(response.body(), 200, response.statusCode());
    return JSON.readTree(response.body());
  }

  private static JsonNode latestXfer(Distribution node) {
    try {
      JsonNode list = get(node, "xfer/v1");
      return list.isArray() && !list.isEmpty() ? list.get(0) : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Recipients of the domain's queue at the node, or -1 while its admin API does not answer. */
  private static int queuedOrUnknown(Distribution node, String domain) {
    try {
      return queued(node, domain);
    } catch (Exception e) {
      return -1;
    }
  }

  private static int queued(Distribution node, String domain) throws Exception {
    int count = 0;
    for (JsonNode queue : get(node, "queue-summary/v1").path("scheduled")) {
      if (queue.path("name").asText().equals(domain)) {
        count += queue.path("recipients").asInt();
      }
    }
    return count;
  }

  /** Waits until none of the domain's mail at the node is being routed (so an xfer takes all). */
  private static void awaitRouted(Distribution node, String domain) throws Exception {
    await(
        () -> {
          try {
            for (JsonNode queue : get(node, "queue-summary/v1").path("scheduled")) {
              if (queue.path("name").asText().equals(domain)) {
                return queue.path("in_delivery").asInt() == 0;
              }
            }
            return true;
          } catch (Exception e) {
            return false;
          }
        },
        Duration.ofMinutes(1),
        "nothing of " + domain + " routed");
  }

  /** Waits until the node holds all {@code count} (none still being routed). */
  private static void awaitHeld(Distribution node, String domain, int count) throws Exception {
    await(
        () -> {
          try {
            for (JsonNode queue : get(node, "queue-summary/v1").path("scheduled")) {
              if (queue.path("name").asText().equals(domain)) {
                return queue.path("recipients").asInt() == count
                    && queue.path("in_delivery").asInt() == 0;
              }
            }
            return false;
          } catch (Exception e) {
            return false;
          }
        },
        Duration.ofMinutes(1),
        count + " held for " + domain);
  }

  private static JsonNode get(Distribution node, String path) throws Exception {
    HttpResponse<String> response = node.admin("GET", path, null);
    if (response.statusCode() != 200) {
      throw new IOException(path + ": HTTP " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }

  private static List<TestSmtpServer.Received> received(String domain) {
    return sink.received().stream()
        .filter(m -> m.recipients().get(0).endsWith("@" + domain))
        .toList();
  }

  private static Map<String, Integer> copies(List<TestSmtpServer.Received> messages) {
    Map<String, Integer> copies = new HashMap<>();
    for (TestSmtpServer.Received message : messages) {
      Matcher id = MESSAGE_ID.matcher(message.text());
      if (id.find()) {
        copies.merge(id.group(1), 1, Integer::sum);
      }
    }
    return copies;
  }

  private static void inject(Distribution node, String domain, int count) throws Exception {
    int senders = 8;
    AtomicInteger next = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(senders);
    try {
      List<Future<Void>> sent =
          pool.invokeAll(
              java.util.Collections.nCopies(
                  senders,
                  () -> {
                    try (SmtpClient smtp = new SmtpClient(node.smtpPort())) {
                      smtp.hello();
                      for (int n; (n = next.getAndIncrement()) < count; ) {
                        String reply =
                            smtp.sendMessage(
                                "sender@itest.example",
                                "r" + n + "@" + domain,
                                "From: <sender@itest.example>\r\nSubject: xfer "
                                    + n
                                    + "\r\nMessage-ID: <x"
                                    + n
                                    + "."
                                    + domain
                                    + "@itest>\r\n\r\nbody\r\n");
                        if (!reply.startsWith("250")) {
                          throw new AssertionError("message " + n + " refused: " + reply);
                        }
                      }
                    }
                    return null;
                  }));
      for (Future<Void> f : sent) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void await(BooleanSupplier condition, Duration timeout, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      Thread.sleep(200);
    }
  }
}
