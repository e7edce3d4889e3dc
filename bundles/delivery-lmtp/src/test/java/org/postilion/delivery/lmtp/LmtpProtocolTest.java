package org.postilion.delivery.lmtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.testkit.DeliveryRequests;
import org.postilion.testkit.DovecotServer;
import org.postilion.testkit.FreePorts;
import org.postilion.testkit.TypedConfig;

/** LMTP against a real Dovecot. */
class LmtpProtocolTest {
  private static final String MESSAGE =
      "From: a@sender.test\r\nSubject: lmtp\r\n\r\n.a line starting with a dot\r\nend\r\n";

  @TempDir static Path folder;
  private static DovecotServer dovecot;
  private LmtpProtocol protocol;

  @BeforeAll
  static void startDovecot() throws Exception {
    dovecot = new DovecotServer(folder, List.of("alice", "bob", "carol", "dave"));
  }

  @AfterAll
  static void stopDovecot() throws Exception {
    dovecot.close();
  }

  @BeforeEach
  void activate() {
    protocol = new LmtpProtocol();
    protocol.activate(
        TypedConfig.of(
            LmtpProtocol.Config.class,
            Map.of("lhlo_name", "test.example", "command_timeout", "5s", "data_timeout", "5s")));
  }

  @AfterEach
  void deactivate() throws InterruptedException {
    protocol.deactivate();
  }

  private static DeliveryRequest request(Map<String, String> keys, String... recipients) {
    return DeliveryRequests.of(
        "lmtp",
        keys,
        MESSAGE.getBytes(StandardCharsets.US_ASCII),
        "mail.test",
        EgressSource.UNSPECIFIED,
        List.of(recipients));
  }

  /** One attempt as a ready queue makes it: resolve the site, open a session, deliver. */
  private DeliveryResult deliver(DeliveryRequest request) throws Exception {
    return deliver(protocol, request);
  }

  private static DeliveryResult deliver(LmtpProtocol protocol, DeliveryRequest request)
      throws Exception {
    try (DeliverySession session = protocol.open(site(protocol, request), request.source())) {
      return session.deliver(request);
    }
  }

  private static Site site(LmtpProtocol protocol, DeliveryRequest request) throws Exception {
    return protocol
        .resolve(request.config(), "mail.test", request.source())
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  /** An attempt at a server on {@code port} that fails before any transaction, transiently. */
  private DeliveryException failsToOpen(int port, String... recipients) {
    DeliveryException failed =
        assertThrows(
            DeliveryException.class,
            () -> deliver(request(Map.of("lmtp.port", String.valueOf(port)), recipients)));
    assertTrue(failed.response().isTransientFailure(), failed.toString());
    return failed;
  }

  private static String delivered(String user) throws Exception {
    List<Path> messages = dovecot.messages(user);
    assertEquals(1, messages.size(), user + ": " + dovecot.log());
    return Files.readString(messages.get(0), StandardCharsets.US_ASCII);
  }

  @Test
  void eachRecipientGetsItsOwnReply() throws Exception {
    DeliveryResult result =
        deliver(
            request(
                Map.of("lmtp.port", String.valueOf(dovecot.port())),
                "alice@mail.test",
                "nobody-here@mail.test",
                "bob@mail.test"));
    List<RecipientResult> results = result.recipients();
    assertEquals(3, results.size());
    RecipientResult alice = find(results, "alice@mail.test");
    RecipientResult unknown = find(results, "nobody-here@mail.test");
    RecipientResult bob = find(results, "bob@mail.test");
    assertEquals(Disposition.DELIVERED, alice.disposition(), alice + " " + dovecot.log());
    assertEquals(Disposition.DELIVERED, bob.disposition(), bob.toString());
    assertEquals(Disposition.PERMANENT_FAILURE, unknown.disposition());
    assertEquals("5.1.1", unknown.response().enhancedCode());
    assertTrue(alice.response().content().contains("Saved"), alice.response().toString());
    // As KumoMTA's records say which command each reply answered.
    assertEquals("RCPT TO:<nobody-here@mail.test>\r\n", unknown.response().command());
    assertEquals(".\r\n", alice.response().command());
    assertEquals("127.0.0.1", result.peer().addr());
    // Dovecot prepends its trace fields and stores LF line ends; the message follows, unstuffed.
    String stored = MESSAGE.replace("\r\n", "\n");
    assertTrue(delivered("alice").endsWith("\n" + stored), delivered("alice"));
    assertTrue(delivered("bob").endsWith("\n" + stored));
  }

  @Test
  void deliversOverTheUnixSocket() throws Exception {
    DeliveryResult result =
        deliver(request(Map.of("lmtp.socket", dovecot.socket().toString()), "carol@mail.test"));
    assertEquals(
        Disposition.DELIVERED, result.recipients().get(0).disposition(), result + dovecot.log());
    assertEquals(dovecot.socket().toString(), result.peer().name());
  }

  @Test
  void anUnreachableServerFailsTheSessionTransiently() throws Exception {
    int closed = FreePorts.pick();
    DeliveryException failed = failsToOpen(closed, "a@mail.test", "b@mail.test");
    assertTrue(
        failed.response().content().startsWith("LMTP 127.0.0.1:" + closed + ": "),
        failed.response().toString());
  }

  @Test
  void aSessionKeepsItsConnectionForTheNextMessages() throws Exception {
    Map<String, String> keys = Map.of("lmtp.port", String.valueOf(dovecot.port()));
    DeliveryRequest first = request(keys, "alice@mail.test");
    long connectionsBefore = connections();
    List<Path> before = dovecot.messages("dave");
    try (DeliverySession session = protocol.open(site(protocol, first), first.source())) {
      // A refused recipient alone ends its transaction with RSET; the connection stays usable.
      DeliveryResult refused = session.deliver(request(keys, "nobody-here@mail.test"));
      assertEquals(Disposition.PERMANENT_FAILURE, refused.recipients().get(0).disposition());
      assertTrue(session.isUsable());
      for (int i = 0; i < 3; i++) {
        DeliveryResult result = session.deliver(request(keys, "dave@mail.test"));
        assertEquals(
            Disposition.DELIVERED, result.recipients().get(0).disposition(), dovecot.log());
        assertTrue(session.isUsable());
      }
    }
    assertEquals(before.size() + 3, dovecot.messages("dave").size());
    assertEquals(
        connectionsBefore + 1,
        connections(),
        "four transactions, one connection: " + dovecot.log());
  }

  /** The LMTP connections Dovecot has logged so far. */
  private static long connections() throws Exception {
    return dovecot.log().lines().filter(line -> line.contains("Connect from")).count();
  }

  @Test
  void aBadPortIsNamedAndTheMailWaits() throws Exception {
    DeliveryRequest request = request(Map.of("lmtp.port", "lots"), "a@mail.test");
    ExecutionException failed =
        assertThrows(
            ExecutionException.class,
            () ->
                protocol
                    .resolve(request.config(), "mail.test", request.source())
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS));
    DeliveryException cause = (DeliveryException) failed.getCause();
    assertTrue(cause.response().isTransientFailure());
    assertEquals("lmtp.port = lots in test.cfg is not a TCP port", cause.response().content());
  }

  @Test
  void aServerThatStopsAnsweringTimesOut() throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) {
      long start = System.nanoTime();
      DeliveryException failed = failsToOpen(silent.getLocalPort(), "a@mail.test");
      assertTrue(failed.response().content().contains("no answer within 5 s"), failed.toString());
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15));
    }
  }

  @Test
  void stoppingFinishesWhatRunsAndRefusesNewWork() throws Exception {
    LmtpProtocol single = new LmtpProtocol();
    single.activate(
        TypedConfig.of(
            LmtpProtocol.Config.class, Map.of("command_timeout", "30s", "stop_grace", "1s")));
    try (ServerSocket silent = new ServerSocket(0)) {
      Map<String, String> keys = Map.of("lmtp.port", String.valueOf(silent.getLocalPort()));
      // A transaction hangs on a silent server, on a ready queue's thread.
      CompletableFuture<DeliveryResult> running =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return deliver(single, request(keys, "a@mail.test"));
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              });
      Thread.sleep(300);
      long start = System.nanoTime();
      single.deactivate();
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "grace is bounded");
      ExecutionException cut =
          assertThrows(ExecutionException.class, () -> running.get(5, TimeUnit.SECONDS));
      DeliveryException cause = (DeliveryException) cut.getCause();
      assertTrue(cause.response().isTransientFailure(), cause.toString());
      DeliveryException gone =
          assertThrows(DeliveryException.class, () -> deliver(single, request(keys, "b@x.test")));
      assertEquals("451 4.3.0 protocol lmtp went away", gone.getMessage());
    }
  }

  private static RecipientResult find(List<RecipientResult> results, String recipient) {
    return results.stream().filter(r -> r.recipient().equals(recipient)).findFirst().orElseThrow();
  }
}
