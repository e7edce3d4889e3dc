package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.admin.Selector;
import org.postilion.api.admin.XferStatus;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Transfer;
import org.postilion.api.spool.QueueEntry;

/**
 * Xfer from a real queue manager (over a memory spool) to an HTTP server that plays the other node,
 * and the receiving end on a second queue manager.
 */
class TransfersTest {
  private static final Selector XFER = new Selector("xfer.test", null, null, null);

  @TempDir Path folder;

  private Harness a;
  private HttpServer target;
  private final List<String> heads = new CopyOnWriteArrayList<>();
  private final List<String> contents = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final AtomicInteger ids = new AtomicInteger();
  private final AtomicInteger arrived = new AtomicInteger();
  private volatile int status = 200;
  private volatile CountDownLatch hold;

  @BeforeEach
  void start() throws Exception {
    a = new Harness(folder.resolve("a"), Map.of());
    // Mail for xfer.test waits here: its protocol is not installed.
    a.manager.addDefinition(Harness.definition("xfer.test", Map.of("protocol", "absent")));
    target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    target.setExecutor(Executors.newCachedThreadPool());
    target.createContext(
        "/api/xfer/inject/v1",
        exchange -> {
          byte[] body;
          try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
          }
          arrived.incrementAndGet();
          CountDownLatch latch = hold;
          if (latch != null) {
            try {
              latch.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          String text = new String(body, StandardCharsets.UTF_8);
          int newline = text.indexOf('\n');
          heads.add(text.substring(0, newline));
          contents.add(text.substring(newline + 1));
          authorizations.add(
              String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
          int answer = status;
          byte[] reply =
              (answer == 200
                      ? "{\"id\":\"remote-" + ids.incrementAndGet() + "\"}"
                      : "{\"error\":\"no room\"}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(answer, reply.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(reply);
          }
        });
    target.start();
  }

  @AfterEach
  void stop() throws Exception {
    CountDownLatch latch = hold;
    if (latch != null) {
      latch.countDown();
    }
    target.stop(0);
    a.close();
  }

  private String url() {
    return "http://xfer:p%40ss@127.0.0.1:" + target.getAddress().getPort() + "/";
  }

  private int queuedHere() {
    int[] count = {0};
    a.spool.forEachQueued(entry -> count[0]++);
    return count[0];
  }

  /** Sends {@code count} to xfer.test and waits until all wait for their protocol. */
  private void queue(int count) throws Exception {
    a.sendMany("xfer.test", count);
    Harness.await(
        count + " parked",
        Duration.ofSeconds(10),
        () ->
            a.admin.list(XFER, 1000).stream().filter(r -> !r.state().equals("routing")).count()
                == count);
  }

  private XferStatus latest() {
    return a.admin.xfers().get(0);
  }

  @Test
  void mailLeavesThisSpoolOnceTheTargetHasItWithXferOutRecords() throws Exception {
    queue(3);
    // Mail that does not match stays here, in flight to a site that does not answer.
    a.protocol.behave("elsewhere.test", FakeProtocol.Behaviour.HANG);
    a.send("other@elsewhere.test");
    XferStatus started = a.admin.xfer(XFER, url(), "scaling down");
    assertEquals(
        "http://127.0.0.1:" + target.getAddress().getPort() + "/.xfer.postilion.internal",
        started.name());
    assertEquals(3, started.taken());
    Harness.await(
        "3 transferred", Duration.ofSeconds(10), () -> a.recordsOf("XferOut", "xfer.test") == 3);
    Harness.await("gone from this spool", Duration.ofSeconds(10), () -> queuedHere() == 1);
    assertEquals(3, a.recordsOf("AdminRebind", "xfer.test"));
    Harness.await("done", Duration.ofSeconds(10), () -> latest().state().equals("done"));
    assertEquals(3, latest().transferred());
    // The envelope and schedule as a JSON line, then the message as stored.
    assertEquals(3, heads.size());
    assertTrue(heads.get(0).contains("\"queue\":\"xfer.test\""), heads.get(0));
    assertTrue(heads.get(0).matches(".*\"recipients\":\\[\"r\\d@xfer.test\"\\].*"), heads.get(0));
    assertTrue(heads.get(0).contains("\"sender\":\"a@sender.test\""), heads.get(0));
    assertTrue(contents.get(0).contains("Subject: t\r\n\r\nbody\r\n"), contents.get(0));
    String basic =
        "Basic " + Base64.getEncoder().encodeToString("xfer:p@ss".getBytes(StandardCharsets.UTF_8));
    assertTrue(authorizations.stream().allMatch(basic::equals), authorizations.toString());
    assertTrue(
        a.records.stream()
            .filter(r -> r.type().recordName().equals("XferOut"))
            .allMatch(r -> r.response().content().contains("as remote-")));
  }

  @Test
  void mailTheTargetRefusesStaysHereAndGoesOnALaterXfer() throws Exception {
    queue(3);
    status = 503;
    a.admin.xfer(XFER, url(), "first try");
    Harness.await("3 refused", Duration.ofSeconds(10), () -> latest().returned() == 3);
    assertEquals(3, queuedHere());
    assertEquals(0, a.recordsOf("XferOut", "xfer.test"));
    // Rebound to the xfer, then back to their queue, as the records say.
    Harness.await(
        "rebound there and back",
        Duration.ofSeconds(10),
        () -> a.recordsOf("AdminRebind", "xfer.test") == 6);
    assertEquals(
        3,
        a.records.stream()
            .filter(r -> r.type().recordName().equals("AdminRebind"))
            .map(r -> r.response().content())
            .filter(c -> c.startsWith("rebound back from ") && c.contains(": HTTP 503"))
            .count());
    assertTrue(latest().lastError().startsWith("HTTP 503"), latest().lastError());
    status = 200;
    XferStatus again = a.admin.xfer(XFER, url(), "second try");
    assertEquals(3, again.taken(), "the refused mail was back in its queue");
    Harness.await("transferred", Duration.ofSeconds(10), () -> queuedHere() == 0);
  }

  @Test
  void aCancelGivesBackWhatWasNotSent() throws Exception {
    queue(10);
    hold = new CountDownLatch(1);
    a.admin.xfer(XFER, url(), "to cancel");
    String name = latest().name();
    // Four go out at once and wait at the target; six wait their turn here.
    Harness.await("4 in flight", Duration.ofSeconds(10), () -> arrived.get() == 4);
    XferStatus cancelled = a.admin.cancelXfer(name, "changed my mind").orElseThrow();
    assertEquals("cancelled", cancelled.state());
    assertEquals(6, cancelled.returned());
    hold.countDown();
    Harness.await(
        "the 4 in flight booked",
        Duration.ofSeconds(10),
        () -> a.recordsOf("XferOut", "xfer.test") == 4);
    assertEquals(6, queuedHere());
    assertTrue(a.admin.cancelXfer("no such xfer", null).isEmpty());
    // An xfer that finds nothing is done at once.
    assertEquals(
        "done", a.admin.xfer(new Selector("none.test", null, null, null), url(), "empty").state());
  }

  @Test
  void targetsAreHttpUrlsOfTheOtherNode() {
    assertThrows(IllegalArgumentException.class, () -> a.admin.xfer(XFER, "ftp://x", "r"));
    assertThrows(IllegalArgumentException.class, () -> a.admin.xfer(XFER, "node-b:8000", "r"));
    assertThrows(
        IllegalArgumentException.class, () -> a.admin.xfer(XFER, "http://b:8000/?q=1", "r"));
    Transfers.Target parsed = Transfers.Target.parse("https://u:pw@node-b:8000/postilion/");
    assertEquals("https://node-b:8000/postilion", parsed.shown());
    assertEquals("https://node-b:8000/postilion/api/xfer/inject/v1", parsed.endpoint().toString());
  }

  @Test
  void transferredMailIsQueuedAsItWasWithXferInRecords() throws Exception {
    Harness b = new Harness(folder.resolve("b"), Map.of());
    try {
      b.manager.addDefinition(Harness.definition("y.test", Map.of("protocol", "absent")));
      Instant due = Instant.now().plus(Duration.ofHours(1));
      byte[] content =
          "From: s@x.test\r\nSubject: moved\r\n\r\nhi\r\n".getBytes(StandardCharsets.US_ASCII);
      String id =
          b.manager.receiveTransfer(
              new Transfer(
                  "node-a",
                  "abc",
                  "s@x.test",
                  List.of("r1@y.test", "r2@y.test"),
                  "spring:acme@y.test",
                  Instant.parse("2026-12-01T00:00:00Z"),
                  due,
                  2,
                  MessageContent.of(content),
                  "127.0.0.1"));
      List<QueueEntry> queued = new ArrayList<>();
      b.spool.forEachQueued(queued::add);
      assertEquals(2, queued.size());
      for (QueueEntry entry : queued) {
        assertEquals(id, entry.key().messageId());
        assertEquals("spring:acme@y.test", entry.queue());
        assertEquals(due, entry.due());
        assertEquals(2, entry.attempts());
      }
      // Records reach their listeners on the event bus's own thread.
      Harness.await(
          "2 XferIn records", Duration.ofSeconds(10), () -> b.recordsOf("XferIn", "y.test") == 2);
      assertEquals("acme", b.spool.message(id).orElseThrow().tenant());
      ReceptionException refused =
          assertThrows(
              ReceptionException.class,
              () ->
                  b.manager.receiveTransfer(
                      new Transfer(
                          "node-a",
                          "abd",
                          "s@x.test",
                          List.of("r@y.test"),
                          "a:b:c@@",
                          null,
                          null,
                          0,
                          MessageContent.of(content),
                          "127.0.0.1")));
      assertEquals(554, refused.response().code());
    } finally {
      b.close();
    }
  }
}
