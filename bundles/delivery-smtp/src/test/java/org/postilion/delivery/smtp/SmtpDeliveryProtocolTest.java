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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
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
                "data_timeout", "2s")));
  }

  @AfterEach
  void stop() throws Exception {
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

  /** Where the request's mail goes, as the queue manager asks before it opens a session. */
  private Site resolve(DeliveryRequest request) throws Exception {
    return protocol
        .resolve(request.config(), "dest.test", request.source())
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
  }

  /**
   * One attempt as a ready queue makes it: resolve, open a session, deliver, close. A failure to
   * resolve or to connect becomes the same response for every recipient, as the queue manager books
   * it.
   */
  private DeliveryResult deliver(DeliveryRequest request) throws Exception {
    try {
      Site site;
      try {
        site = resolve(request);
      } catch (java.util.concurrent.ExecutionException e) {
        throw (DeliveryException) e.getCause();
      }
      try (DeliverySession session = protocol.open(site, request.source())) {
        return session.deliver(request);
      }
    } catch (DeliveryException e) {
      Response response = e.response();
      return DeliveryResult.forAll(
          request,
          response.isPermanentFailure()
              ? Disposition.PERMANENT_FAILURE
              : Disposition.TRANSIENT_FAILURE,
          response,
          null);
    }
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
    // request() routes to the test server by default.
    RecipientResult garbage = only(deliver(request(MESSAGE, Map.of(), "b@dest.test")));
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
  void aPeerThatAcceptsAndNeverGreetsIsATransientFailureAfterTheCommandTimeout() throws Exception {
    try (java.net.ServerSocket mute =
        new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      server = new TestSmtpServer(null);
      long started = System.nanoTime();
      RecipientResult result =
          only(
              deliver(
                  request(
                      MESSAGE,
                      Map.of("smtp.mx_list", "[127.0.0.1]:" + mute.getLocalPort()),
                      "b@dest.test")));
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
      assertEquals(Disposition.TRANSIENT_FAILURE, result.disposition());
      assertTrue(result.response().content().contains("no reply"), result.response().toString());
      assertTrue(seconds < 10, "waited " + seconds + " s, the command timeout is 2 s");
    }
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
  void aSessionCarriesOneMessageAfterAnotherOverOneConnection() throws Exception {
    server = new TestSmtpServer(null);
    DeliveryRequest request = request(MESSAGE, Map.of(), "b@dest.test");
    Site site = resolve(request);
    assertEquals("127.0.0.1:" + server.port(), site.name());
    try (DeliverySession session = protocol.open(site, request.source())) {
      for (int i = 0; i < 3; i++) {
        assertEquals(Disposition.DELIVERED, only(session.deliver(request)).disposition());
        assertTrue(session.isUsable());
      }
    }
    assertEquals(3, server.received().size());
    assertEquals(1, server.connections());
  }

  @Test
  void aSessionWhoseConnectionBrokeSaysSoAndIsNotUsedAgain() throws Exception {
    server = new TestSmtpServer(null);
    DeliveryRequest request = request(MESSAGE, Map.of(), "b@dest.test");
    server.faults(command -> command.equals("DATA") ? TestSmtpServer.Fault.DROP : null);
    try (DeliverySession session = protocol.open(resolve(request), request.source())) {
      DeliveryException lost =
          org.junit.jupiter.api.Assertions.assertThrows(
              DeliveryException.class, () -> session.deliver(request));
      assertTrue(lost.response().isTransientFailure(), lost.response().toString());
      assertFalse(session.isUsable());
    }
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
