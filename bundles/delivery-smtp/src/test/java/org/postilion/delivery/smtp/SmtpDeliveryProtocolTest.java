package org.postilion.delivery.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.TrafficShaping;
import org.postilion.testkit.DeliveryRequests;
import org.postilion.testkit.SelfSignedTls;
import org.postilion.testkit.TestSmtpServer;
import org.postilion.testkit.TypedConfig;

class SmtpDeliveryProtocolTest {
  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nSubject: hi\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  @TempDir Path temp;
  private TestSmtpServer server;
  private SmtpDeliveryProtocol protocol;

  @BeforeEach
  void startProtocol() {
    protocol = new SmtpDeliveryProtocol();
    protocol.activate(
        TypedConfig.of(
            SmtpDeliveryProtocol.Config.class,
            Map.of(
                "ehlo_name", "client.test",
                "connect_timeout", "2s",
                "command_timeout", "2s",
                "data_timeout", "2s",
                "idle_timeout", "1s")));
  }

  @AfterEach
  void stop() throws Exception {
    protocol.deactivate();
    if (server != null) {
      server.close();
    }
  }

  private DeliveryRequest request(byte[] content, Map<String, String> keys, String... recipients) {
    return request(content, keys, EgressSource.UNSPECIFIED, recipients);
  }

  private DeliveryRequest request(
      byte[] content, Map<String, String> keys, EgressSource source, String... recipients) {
    Map<String, String> properties = new HashMap<>(keys);
    properties.putIfAbsent("smtp.mx_list", "[127.0.0.1]:" + server.port());
    properties.putIfAbsent("smtp.allow_loopback", "true");
    properties.putIfAbsent("smtp.tls", "disabled");
    return DeliveryRequests.of(
        "smtp", properties, content, "dest.test", source, List.of(recipients));
  }

  private DeliveryResult deliver(DeliveryRequest request) throws Exception {
    return protocol.deliver(request).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** The same limits for every destination. */
  private static TrafficShaping shaping(
      int connectionLimit, String messageRate, String connectionRate, int deliveriesPerConnection) {
    ShapingSettings settings =
        new ShapingSettings(
            connectionLimit,
            messageRate == null ? null : Rate.parse(messageRate),
            connectionRate == null ? null : Rate.parse(connectionRate),
            deliveriesPerConnection);
    return (domain, site) -> settings;
  }

  private static RecipientResult only(DeliveryResult result) {
    assertEquals(1, result.recipients().size());
    return result.recipients().get(0);
  }

  @Test
  void deliversTheExactBytesWithDotStuffingUndone() throws Exception {
    server = new TestSmtpServer(null);
    DeliveryResult result = deliver(request(MESSAGE, Map.of(), "b@dest.test"));
    RecipientResult outcome = only(result);
    assertEquals(Disposition.DELIVERED, outcome.disposition(), outcome.response().toString());
    assertEquals(250, outcome.response().code());
    assertEquals("2.0.0", outcome.response().enhancedCode());
    assertEquals("127.0.0.1", result.peer().addr());
    TestSmtpServer.Received received = server.received().get(0);
    assertArrayEquals(MESSAGE, received.content());
    assertEquals("a@sender.test", received.sender());
    assertEquals(List.of("b@dest.test"), received.recipients());
  }

  @Test
  void sendsAllRecipientsOfABatchInOneTransactionWithTheirOwnResults() throws Exception {
    server = new TestSmtpServer(null);
    server.replies(
        command ->
            switch (command) {
              case "RCPT TO:<NOBODY@DEST.TEST>" -> "550 5.1.1 no such user";
              case "RCPT TO:<FULL@DEST.TEST>" -> "452 4.2.2 mailbox full";
              default -> null;
            });
    DeliveryResult result =
        deliver(
            request(
                MESSAGE,
                Map.of(),
                "one@dest.test",
                "nobody@dest.test",
                "full@dest.test",
                "two@dest.test"));
    Map<String, Disposition> outcomes = new HashMap<>();
    result.recipients().forEach(r -> outcomes.put(r.recipient(), r.disposition()));
    assertEquals(Disposition.DELIVERED, outcomes.get("one@dest.test"));
    assertEquals(Disposition.DELIVERED, outcomes.get("two@dest.test"));
    assertEquals(Disposition.PERMANENT_FAILURE, outcomes.get("nobody@dest.test"));
    assertEquals(Disposition.TRANSIENT_FAILURE, outcomes.get("full@dest.test"));
    assertEquals(1, server.received().size());
    assertEquals(List.of("one@dest.test", "two@dest.test"), server.received().get(0).recipients());
  }

  @Test
  void replyCodesAtDataMapToDispositions() throws Exception {
    server = new TestSmtpServer(null);
    AtomicInteger dots = new AtomicInteger();
    server.replies(
        command ->
            command.equals(".")
                ? (dots.incrementAndGet() == 1
                    ? "451 4.3.0 try again"
                    : "554 5.7.1 rejected as spam")
                : null);
    RecipientResult first = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, first.disposition());
    assertEquals("4.3.0", first.response().enhancedCode());
    RecipientResult second = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
    assertEquals(Disposition.PERMANENT_FAILURE, second.disposition());
    assertEquals(554, second.response().code());
    assertEquals("rejected as spam", second.response().content());
  }

  @Test
  void badPeersAreTransientFailuresWithTheCause() throws Exception {
    server = new TestSmtpServer(null);
    server.faults(
        command ->
            command.equals("MAIL FROM:<A@SENDER.TEST> SIZE=" + MESSAGE.length)
                ? TestSmtpServer.Fault.GARBAGE
                : null);
    RecipientResult garbage =
        only(
            deliver(
                request(
                    MESSAGE,
                    Map.of("smtp.mx_list", "[127.0.0.1]:" + server.port()),
                    "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, garbage.disposition());
    assertTrue(
        garbage.response().content().contains("garbled reply"), garbage.response().toString());

    server.faults(command -> command.equals("DATA") ? TestSmtpServer.Fault.DROP : null);
    RecipientResult dropped = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, dropped.disposition());
    assertTrue(
        dropped.response().content().contains("closed the connection"),
        dropped.response().toString());

    server.faults(command -> command.startsWith("EHLO") ? TestSmtpServer.Fault.SILENCE : null);
    RecipientResult silent = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, silent.disposition());
    assertTrue(silent.response().content().contains("no reply"), silent.response().toString());
    assertTrue(server.received().isEmpty());
  }

  @Test
  void refusesToSendWhatTheServerSaysIsTooBig() throws Exception {
    server = new TestSmtpServer(null).maxSize(10);
    RecipientResult outcome = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
    assertEquals(Disposition.PERMANENT_FAILURE, outcome.disposition());
    assertEquals("5.3.4", outcome.response().enhancedCode());
    assertTrue(server.received().isEmpty());
  }

  @Test
  void reusesConnectionsUpToTheirLimit() throws Exception {
    server = new TestSmtpServer(null);
    protocol.shaping = shaping(32, null, null, 2);
    for (int i = 0; i < 5; i++) {
      assertEquals(
          Disposition.DELIVERED,
          only(deliver(request(MESSAGE, Map.of(), "b@dest.test"))).disposition());
    }
    assertEquals(5, server.received().size());
    assertEquals(3, server.connections(), "2 + 2 + 1 messages");
  }

  @Test
  void neverOpensMoreConnectionsThanTheLimit() throws Exception {
    server = new TestSmtpServer(null);
    server.replies(
        command -> {
          if (command.equals(".")) {
            try {
              Thread.sleep(50);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return null;
        });
    protocol.shaping = shaping(2, null, null, 1024);
    List<CompletableFuture<DeliveryResult>> pending = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      pending.add(
          protocol
              .deliver(request(MESSAGE, Map.of(), "b" + i + "@dest.test"))
              .toCompletableFuture());
    }
    for (CompletableFuture<DeliveryResult> future : pending) {
      assertEquals(Disposition.DELIVERED, only(future.get(30, TimeUnit.SECONDS)).disposition());
    }
    assertEquals(20, server.received().size());
    assertTrue(server.mostConcurrent() <= 2, "at most 2 at once, saw " + server.mostConcurrent());
  }

  @Test
  void triesTheNextHostWhenOneIsDown() throws Exception {
    server = new TestSmtpServer(null);
    String mxList = "[127.0.0.1]:9, [127.0.0.1]:" + server.port();
    RecipientResult outcome =
        only(deliver(request(MESSAGE, Map.of("smtp.mx_list", mxList), "b@dest.test")));
    assertEquals(Disposition.DELIVERED, outcome.disposition());
  }

  @Test
  void neverDeliversToItselfOrToLoopbackUnlessAllowed() throws Exception {
    server = new TestSmtpServer(null);
    protocol.addListener(() -> new InetSocketAddress("127.0.0.1", server.port()));
    RecipientResult own = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
    assertEquals(Disposition.PERMANENT_FAILURE, own.disposition());
    assertEquals("5.4.6", own.response().enhancedCode());
    EgressSource bound = new EgressSource("ip2", InetAddress.getByName("127.0.0.2"), null);
    RecipientResult ownFromSource = only(deliver(request(MESSAGE, Map.of(), bound, "b@dest.test")));
    assertEquals("5.4.6", ownFromSource.response().enhancedCode(), "a source changes nothing");
    RecipientResult loopback =
        only(
            deliver(
                request(
                    MESSAGE,
                    Map.of("smtp.allow_loopback", "false", "smtp.mx_list", "[127.0.0.1]:2600"),
                    "b@dest.test")));
    assertEquals(Disposition.PERMANENT_FAILURE, loopback.disposition());
    RecipientResult anyAddress =
        only(deliver(request(MESSAGE, Map.of("smtp.mx_list", "[0.0.0.0]:2600"), "b@dest.test")));
    assertEquals(Disposition.PERMANENT_FAILURE, anyAddress.disposition());
    assertTrue(server.received().isEmpty());
  }

  @Test
  void aBadQueueKeyIsAClearTransientFailure() throws Exception {
    server = new TestSmtpServer(null);
    RecipientResult outcome =
        only(deliver(request(MESSAGE, Map.of("smtp.port", "many"), "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, outcome.disposition());
    assertTrue(outcome.response().content().contains("smtp.port"));
  }

  // --- STARTTLS against a self-signed certificate, in each smtp.tls mode -----------------------

  private SSLContext selfSigned() throws Exception {
    return SelfSignedTls.serverContext(temp, "localhost");
  }

  @Test
  void opportunisticInsecureEncryptsWithAnyCertificate() throws Exception {
    server = new TestSmtpServer(selfSigned());
    DeliveryResult result =
        deliver(request(MESSAGE, Map.of("smtp.tls", "opportunistic_insecure"), "b@dest.test"));
    assertEquals(
        Disposition.DELIVERED, only(result).disposition(), only(result).response().toString());
    assertTrue(server.received().get(0).tls());
    assertTrue(result.tlsProtocol().startsWith("TLSv1."), result.tlsProtocol());
    assertTrue(result.tlsCipher() != null && !result.tlsCipher().isEmpty());
  }

  @Test
  void opportunisticAndRequiredRefuseAnUnverifiableCertificate() throws Exception {
    server = new TestSmtpServer(selfSigned());
    for (String mode : new String[] {"opportunistic", "required"}) {
      RecipientResult outcome =
          only(deliver(request(MESSAGE, Map.of("smtp.tls", mode), "b@dest.test")));
      assertEquals(Disposition.TRANSIENT_FAILURE, outcome.disposition(), mode);
      assertTrue(outcome.response().content().contains("TLS"), outcome.response().toString());
    }
    assertTrue(server.received().isEmpty(), "nothing may go out in plaintext after TLS failed");
  }

  @Test
  void opportunisticFallsBackToPlaintextOnlyWithoutStarttls() throws Exception {
    server = new TestSmtpServer(null);
    DeliveryResult result =
        deliver(request(MESSAGE, Map.of("smtp.tls", "opportunistic"), "b@dest.test"));
    assertEquals(Disposition.DELIVERED, only(result).disposition());
    assertFalse(server.received().get(0).tls());
    assertNull(result.tlsProtocol());
  }

  @Test
  void requiredNeedsStarttlsAndDisabledNeverUsesIt() throws Exception {
    server = new TestSmtpServer(null);
    RecipientResult required =
        only(deliver(request(MESSAGE, Map.of("smtp.tls", "required_insecure"), "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, required.disposition());
    assertEquals("4.7.10", required.response().enhancedCode());
    server.close();

    server = new TestSmtpServer(selfSigned());
    DeliveryResult disabled =
        deliver(request(MESSAGE, Map.of("smtp.tls", "disabled"), "b@dest.test"));
    assertEquals(Disposition.DELIVERED, only(disabled).disposition());
    assertFalse(server.received().get(0).tls());
  }

  // --- traffic shaping, egress sources and ready queues -----------------------------------------

  /** Waits for a condition that comes about in the background. */
  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private List<CompletableFuture<DeliveryResult>> deliverAll(int count, EgressSource source) {
    List<CompletableFuture<DeliveryResult>> pending = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      pending.add(
          protocol
              .deliver(request(MESSAGE, Map.of(), source, "b" + i + "@dest.test"))
              .toCompletableFuture());
    }
    return pending;
  }

  private static void assertAllDelivered(List<CompletableFuture<DeliveryResult>> pending)
      throws Exception {
    for (CompletableFuture<DeliveryResult> future : pending) {
      RecipientResult outcome = only(future.get(30, TimeUnit.SECONDS));
      assertEquals(Disposition.DELIVERED, outcome.disposition(), outcome.response().toString());
    }
  }

  private List<ReadyQueueStatus> readyQueues() {
    return protocol.readyQueues();
  }

  @Test
  void maxMessageRateSpacesMessagesEvenlyAndCanBeLifted() throws Exception {
    server = new TestSmtpServer(null);
    List<Long> arrivals = Collections.synchronizedList(new ArrayList<>());
    server.replies(
        command -> {
          if (command.equals(".")) {
            arrivals.add(System.nanoTime());
          }
          return null;
        });
    protocol.shaping = shaping(32, "20/s", null, 1024);
    assertAllDelivered(deliverAll(30, EgressSource.UNSPECIFIED));
    List<Long> times = new ArrayList<>(arrivals);
    Collections.sort(times);
    assertEquals(30, times.size());
    double seconds = (times.get(29) - times.get(0)) / 1e9;
    double rate = 29 / seconds;
    assertTrue(rate >= 16 && rate <= 24, "20/s asked, " + rate + "/s measured");
    assertTrue(
        server.connections() < 10, "a rate needs few connections, not " + server.connections());

    // The limit goes with the setting: the next messages go as fast as they can.
    protocol.shaping = shaping(32, null, null, 1024);
    long start = System.nanoTime();
    assertAllDelivered(deliverAll(20, EgressSource.UNSPECIFIED));
    double unlimited = (System.nanoTime() - start) / 1e9;
    assertTrue(unlimited < 0.9, "20 messages at 20/s take 0.95 s; unlimited took " + unlimited);
  }

  @Test
  void maxConnectionRateSpacesNewConnections() throws Exception {
    server = new TestSmtpServer(null);
    List<Long> greetings = Collections.synchronizedList(new ArrayList<>());
    server.replies(
        command -> {
          if (command.startsWith("EHLO")) {
            greetings.add(System.nanoTime());
          }
          return null;
        });
    // One message per connection, so each message needs a new one.
    protocol.shaping = shaping(32, null, "10/s", 1);
    assertAllDelivered(deliverAll(6, EgressSource.UNSPECIFIED));
    assertEquals(6, server.connections());
    List<Long> times = new ArrayList<>(greetings);
    Collections.sort(times);
    double seconds = (times.get(5) - times.get(0)) / 1e9;
    assertTrue(seconds >= 0.4, "6 connections at 10/s need 0.5 s, took " + seconds);
    assertTrue(seconds < 1.5, "6 connections at 10/s need 0.5 s, took " + seconds);
  }

  @Test
  void anEgressSourceBindsItsAddressAndSaysItsEhloDomain() throws Exception {
    server = new TestSmtpServer(null);
    EgressSource ip2 = new EgressSource("ip2", InetAddress.getByName("127.0.0.2"), "out2.test");
    assertEquals(
        Disposition.DELIVERED,
        only(deliver(request(MESSAGE, Map.of("smtp.ehlo_name", "queue.test"), ip2, "b@dest.test")))
            .disposition());
    TestSmtpServer.Received fromIp2 = server.received().get(0);
    assertEquals(InetAddress.getByName("127.0.0.2"), fromIp2.client());
    assertEquals("out2.test", fromIp2.ehlo(), "the source's EHLO domain comes first");

    // Without an EHLO domain of its own, the queue's name, then the protocol's.
    EgressSource plain = new EgressSource("plain", null, null);
    deliver(request(MESSAGE, Map.of("smtp.ehlo_name", "queue.test"), plain, "b@dest.test"));
    deliver(request(MESSAGE, Map.of(), plain, "b@dest.test"));
    List<TestSmtpServer.Received> received = server.received();
    assertEquals(3, received.size());
    assertEquals("queue.test", received.get(1).ehlo());
    assertEquals(InetAddress.getByName("127.0.0.1"), received.get(1).client());
    assertEquals("client.test", received.get(2).ehlo());
  }

  @Test
  void readyQueuesShowWaitingMailAndOpenConnectionsPerSourceAndSite() throws Exception {
    server = new TestSmtpServer(null);
    CountDownLatch release = new CountDownLatch(1);
    server.replies(
        command -> {
          if (command.equals(".")) {
            try {
              release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return null;
        });
    protocol.shaping = shaping(1, null, null, 1024);
    EgressSource ip2 = new EgressSource("ip2", InetAddress.getByName("127.0.0.2"), null);
    List<CompletableFuture<DeliveryResult>> pending = deliverAll(3, ip2);
    String site = "127.0.0.1:" + server.port();
    await(
        "one message in delivery and two waiting",
        () ->
            readyQueues().size() == 1
                && readyQueues().get(0).ready() == 2
                && readyQueues().get(0).connections() == 1);
    ReadyQueueStatus status = readyQueues().get(0);
    assertEquals("ip2->" + site + "@smtp", status.name());
    assertEquals("smtp", status.protocol());
    assertEquals(site, status.site());
    assertEquals("ip2", status.source());
    assertFalse(status.suspended());

    release.countDown();
    assertAllDelivered(pending);
    // Idle past idle_timeout, the connection closes and the ready queue is forgotten.
    await("the idle ready queue to go", () -> readyQueues().isEmpty());
  }

  @Test
  void aSuspendedSiteHoldsItsMailUntilResumed() throws Exception {
    server = new TestSmtpServer(null);
    String site = "127.0.0.1:" + server.port();
    Set<String> suspended = ConcurrentHashMap.newKeySet();
    protocol.queueAdmin = suspendingAdmin(suspended);
    assertEquals(
        Disposition.DELIVERED,
        only(deliver(request(MESSAGE, Map.of(), "a@dest.test"))).disposition());
    assertEquals(1, readyQueues().get(0).connections(), "the connection stays for the next");

    suspended.add(site);
    CompletableFuture<DeliveryResult> held =
        protocol.deliver(request(MESSAGE, Map.of(), "b@dest.test")).toCompletableFuture();
    // The suspension outlasts idle_timeout (1 s): the idle connection closes meanwhile.
    await(
        "the idle connection to close while the mail is held",
        () -> readyQueues().get(0).connections() == 0);
    ReadyQueueStatus status = readyQueues().get(0);
    assertTrue(status.suspended());
    assertEquals(1, status.ready());
    assertFalse(held.isDone());
    assertEquals(1, server.received().size());

    suspended.remove(site);
    RecipientResult outcome = only(held.get(10, TimeUnit.SECONDS));
    assertEquals(Disposition.DELIVERED, outcome.disposition());
    assertEquals(2, server.received().size());
  }

  /** A queue admin that only answers whether a site is suspended. */
  private static QueueAdmin suspendingAdmin(Set<String> suspendedSites) {
    return (QueueAdmin)
        Proxy.newProxyInstance(
            QueueAdmin.class.getClassLoader(),
            new Class<?>[] {QueueAdmin.class},
            (proxy, method, args) -> {
              if (method.getName().equals("isReadySuspended")) {
                return suspendedSites.contains((String) args[0]);
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
