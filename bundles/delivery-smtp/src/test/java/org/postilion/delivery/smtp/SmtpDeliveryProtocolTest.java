package org.postilion.delivery.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.queue.RetrySchedule;
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
    Map<String, String> properties = new HashMap<>(keys);
    properties.putIfAbsent("smtp.mx_list", "[127.0.0.1]:" + server.port());
    properties.putIfAbsent("smtp.allow_loopback", "true");
    properties.putIfAbsent("smtp.tls", "disabled");
    QueueConfig config =
        new QueueConfig(
            "test.cfg",
            "smtp",
            new RetrySchedule(Duration.ofMinutes(1), null),
            Duration.ofDays(1),
            properties);
    MessageContent body =
        new MessageContent() {
          @Override
          public InputStream open() {
            return new ByteArrayInputStream(content);
          }

          @Override
          public long size() {
            return content.length;
          }
        };
    return new DeliveryRequest(
        "m1",
        "a@sender.test",
        List.of(recipients),
        QueueName.of(null, null, "dest.test"),
        config,
        1,
        body);
  }

  private DeliveryResult deliver(DeliveryRequest request) throws Exception {
    return protocol.deliver(request).toCompletableFuture().get(20, TimeUnit.SECONDS);
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
    for (int i = 0; i < 5; i++) {
      assertEquals(
          Disposition.DELIVERED,
          only(deliver(
                  request(
                      MESSAGE, Map.of("smtp.max_deliveries_per_connection", "2"), "b@dest.test")))
              .disposition());
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
    List<CompletableFuture<DeliveryResult>> pending = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      pending.add(
          protocol
              .deliver(
                  request(MESSAGE, Map.of("smtp.connection_limit", "2"), "b" + i + "@dest.test"))
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
        only(deliver(request(MESSAGE, Map.of("smtp.connection_limit", "many"), "b@dest.test")));
    assertEquals(Disposition.TRANSIENT_FAILURE, outcome.disposition());
    assertTrue(outcome.response().content().contains("smtp.connection_limit"));
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
}
