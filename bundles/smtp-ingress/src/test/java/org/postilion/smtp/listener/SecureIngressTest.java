package org.postilion.smtp.listener;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.net.Cidr;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.smtp.tls.TlsSettings;
import org.postilion.support.tls.PemCredentials;
import org.postilion.testkit.SelfSignedTls;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.Submissions;

/** TLS, AUTH, CHUNKING and the abuse limits of a listener, through real sockets. */
class SecureIngressTest {
  private static final Map<String, String> USERS = Map.of("alice", "s3cret");

  @TempDir Path folder;
  private final List<Submission> received = new CopyOnWriteArrayList<>();
  private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
  private final Reception reception =
      new Reception() {
        @Override
        public String receive(Submission submission) {
          received.add(Submissions.kept(submission));
          return "id" + received.size();
        }

        @Override
        public void refused(Refusal refusal) {
          refusals.add(refusal);
        }
      };
  private SmtpListener.Running running;

  @AfterEach
  void stop() {
    if (running != null) {
      running.close();
    }
  }

  /** Starts a listener that lets nobody relay without AUTH; returns its port. */
  private int start(TlsSettings.Mode mode, UnaryOperator<ListenerSettings> adjust)
      throws Exception {
    TlsSettings tls =
        new TlsSettings(
            mode, null, null, folder, "mx.test", List.of("TLSv1.3", "TLSv1.2"), List.of());
    ListenerSettings settings =
        adjust.apply(
            new ListenerSettings(
                "test",
                "127.0.0.1",
                0,
                "mx.test",
                100_000,
                10,
                List.of(Cidr.parse("10.0.0.0/8")),
                Set.of("local.test", "xn--fsqu00a.test"),
                4,
                ListenerSettings.Limits.defaults(),
                tls,
                new ListenerSettings.Auth(false, false, 3, Duration.ofMinutes(5)),
                false,
                java.util.Set.of()));
    running =
        SmtpListener.start(
            settings,
            reception,
            (user, password) ->
                password.equals(USERS.get(user))
                    ? Optional.of(Set.of("tenant.acme", "other"))
                    : Optional.empty());
    return running.server().getListenAddresses().get(0).getPort();
  }

  private int start(TlsSettings.Mode mode) throws Exception {
    return start(mode, s -> s);
  }

  /** A listener without TLS and with these limits. */
  private int startWithLimits(ListenerSettings.Limits limits) throws Exception {
    return start(TlsSettings.Mode.OFF, s -> s.withLimits(limits));
  }

  /** A client that trusts exactly the listener's self-signed certificate. */
  private SSLContext clientContext() throws Exception {
    return SelfSignedTls.trusting(folder.resolve("self-signed-mx.test.crt"));
  }

  private static void expect(String prefix, String reply) {
    assertTrue(reply != null && reply.startsWith(prefix), "expected " + prefix + ", got " + reply);
  }

  private static String plain(String user, String password) {
    return Base64.getEncoder()
        .encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void startTlsThenAuthRelaysAnywhereWithTheRolesTenant() throws Exception {
    int port = start(TlsSettings.Mode.STARTTLS);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      String ehlo = c.send("EHLO client.test");
      assertTrue(ehlo.contains("STARTTLS"), ehlo);
      assertFalse(ehlo.contains("AUTH"), "AUTH is not offered before TLS: " + ehlo);
      expect("538 5.7.11", c.send("AUTH PLAIN " + plain("alice", "s3cret")));
      expect("250", c.send("MAIL FROM:<a@sender.test>"));
      assertEquals("550 5.7.1 relaying denied", c.send("RCPT TO:<b@foreign.test>"));
      c.send("RSET");
      expect("220", c.send("STARTTLS"));
      c.startTls(clientContext());
      ehlo = c.send("EHLO client.test");
      assertTrue(ehlo.contains("AUTH LOGIN PLAIN"), ehlo);
      assertFalse(ehlo.contains("STARTTLS"), ehlo);
      assertEquals(
          "235 2.7.0 Authentication successful", c.send("AUTH PLAIN " + plain("alice", "s3cret")));
      expect("250", c.send("MAIL FROM:<a@sender.test>"));
      expect("250", c.send("RCPT TO:<b@foreign.test>"));
      expect("354", c.send("DATA"));
      c.write("From: a@sender.test\r\n\r\nhi\r\n.\r\n");
      expect("250", c.reply());
    }
    Submission submission = received.get(0);
    assertEquals("acme", submission.tenant());
    assertEquals("ESMTPSA", submission.receptionProtocol());
    assertTrue(submission.tlsProtocol().startsWith("TLSv1."), submission.tlsProtocol());
  }

  @Test
  void authLoginWorksAndWrongPasswordsAreSlowedThenLockedOut() throws Exception {
    int port =
        start(
            TlsSettings.Mode.STARTTLS,
            s -> s.withAuth(new ListenerSettings.Auth(true, false, 3, Duration.ofMinutes(5))));
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      assertTrue(c.send("EHLO client.test").contains("AUTH LOGIN PLAIN"));
      expect("501", c.send("AUTH PLAIN %%%not-base64"));
      expect("535 5.7.8", c.send("AUTH PLAIN " + plain("alice", "wrong")));
      long begin = System.nanoTime();
      expect("535 5.7.8", c.send("AUTH PLAIN " + plain("alice", "wrong")));
      long waited = Duration.ofNanos(System.nanoTime() - begin).toMillis();
      assertTrue(waited >= 1_900, "the second failure is held back 2 s, was " + waited + " ms");
      expect("334 VXNlcm5hbWU6", c.send("AUTH LOGIN"));
      assertTrue(c.send(Base64.getEncoder().encodeToString("alice".getBytes())).startsWith("334"));
      assertTrue(c.send(Base64.getEncoder().encodeToString("nope".getBytes())).startsWith("535"));
      String locked = c.send("AUTH PLAIN " + plain("alice", "s3cret"));
      assertTrue(locked.startsWith("421 4.7.0"), locked);
      assertNull(c.reply(), "the connection is closed");
    }
    assertEquals(3, refusals.stream().filter(r -> r.reason().equals("auth_failed")).count());
    assertTrue(refusals.stream().anyMatch(r -> r.reason().equals("auth_locked")));
    assertEquals(3L, running.refusals().counts().get("auth_failed"));
  }

  @Test
  void commandsPipelinedBehindStartTlsAreDiscarded() throws Exception {
    int port = start(TlsSettings.Mode.STARTTLS);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.write("STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n");
      expect("220", c.reply());
      c.startTls(clientContext());
      c.send("EHLO client.test");
      assertTrue(
          c.send("RCPT TO:<b@local.test>").startsWith("503"),
          "the injected MAIL must not have been taken");
    }
  }

  @Test
  void implicitTlsSpeaksTlsFromTheFirstByte() throws Exception {
    int port = start(TlsSettings.Mode.IMPLICIT);
    try (SmtpClient c = new SmtpClient(clientContext(), port)) {
      expect("220 mx.test", c.reply());
      String ehlo = c.send("EHLO client.test");
      assertFalse(ehlo.contains("STARTTLS"), ehlo);
      assertTrue(ehlo.contains("AUTH LOGIN PLAIN"), ehlo);
    }
  }

  @Test
  void reloadsTheCertificateWhenItsFilesChange() throws Exception {
    Path certificate = folder.resolve("cert.pem");
    Path key = folder.resolve("key.pem");
    PemCredentials.writeSelfSigned(certificate, key, "first.test", Duration.ofDays(2));
    TlsSettings tls =
        new TlsSettings(
            TlsSettings.Mode.IMPLICIT,
            certificate,
            key,
            folder,
            "mx.test",
            List.of("TLSv1.3"),
            List.of());
    int port = start(TlsSettings.Mode.IMPLICIT, s -> s.withTls(tls));
    assertEquals("CN=first.test", peerName(port));
    Files.writeString(key, "not a key");
    PemCredentials.writeSelfSigned(
        folder.resolve("second.pem"),
        folder.resolve("second.key"),
        "second.test",
        Duration.ofDays(2));
    // The listener looked at the broken files and said so; the old certificate stays in use.
    long seen = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!running.tls().describe().contains("changed files refused")) {
      assertTrue(System.nanoTime() < seen, "the broken key was not looked at");
      Thread.sleep(100);
    }
    assertTrue(running.tls().describe().startsWith("implicit CN=first.test until "));
    assertEquals("CN=first.test", peerName(port), "a broken file keeps the old certificate");
    Files.move(
        folder.resolve("second.key"), key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.move(
        folder.resolve("second.pem"),
        certificate,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (!peerName(port).equals("CN=second.test")) {
      assertTrue(System.nanoTime() < deadline, "the new certificate was not picked up");
      Thread.sleep(250);
    }
    assertFalse(running.tls().describe().contains("refused"), running.tls().describe());
  }

  private static String peerName(int port) throws Exception {
    SSLContext trustAll = SSLContext.getInstance("TLS");
    trustAll.init(
        null,
        new javax.net.ssl.TrustManager[] {
          new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
              return new X509Certificate[0];
            }
          }
        },
        null);
    try (SSLSocket socket =
        (SSLSocket) trustAll.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0])
          .getSubjectX500Principal()
          .getName();
    }
  }

  @Test
  void requireAuthRefusesMailBeforeAuth() throws Exception {
    int port =
        start(
            TlsSettings.Mode.STARTTLS,
            s -> s.withAuth(new ListenerSettings.Auth(false, true, 3, Duration.ofMinutes(5))));
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      assertEquals("530 5.7.0 Authentication required", c.send("MAIL FROM:<a@sender.test>"));
    }
  }

  @Test
  void chunkingTakesMessagesInPiecesThatNeedNotEndLines() throws Exception {
    int port = start(TlsSettings.Mode.OFF);
    String message = "From: a@sender.test\r\nSubject: chunks\r\n\r\nfirst line\r\nsecond\r\n";
    String first = message.substring(0, 30);
    String second = message.substring(30);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      assertTrue(c.send("EHLO client.test").contains("CHUNKING"));
      c.write("BDAT 5\r\n12345");
      expect("503 5.5.1", c.reply());
      c.write("MAIL FROM:<a@sender.test>\r\nRCPT TO:<b@local.test>\r\n");
      expect("250", c.reply());
      expect("250", c.reply());
      // The first chunk ends in the middle of a line; the next command follows at once.
      c.write(
          "BDAT "
              + first.length()
              + "\r\n"
              + first
              + "BDAT "
              + second.length()
              + " LAST\r\n"
              + second);
      expect("250 2.0.0 30 octets", c.reply());
      assertEquals("250 2.0.0 Ok queued as id1", c.reply());
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      String bare = "From: a@sender.test\r\n\r\nbare\nline\r\n";
      c.write("BDAT " + bare.length() + " LAST\r\n" + bare);
      expect("550 5.6.11", c.reply());
      expect("250", c.send("NOOP"));
    }
    assertEquals(1, received.size());
    assertArrayEquals(
        message.getBytes(StandardCharsets.US_ASCII), Submissions.bytes(received.get(0).content()));
  }

  @Test
  void smtpUtf8AddressesAndHeadersArriveAsSent() throws Exception {
    int port = start(TlsSettings.Mode.OFF);
    String message =
        "From: José <josé@exämple.test>\r\nTo: 用户@例子.test\r\nSubject: ¡hola!\r\n\r\nÄö\r\n";
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      assertTrue(c.send("EHLO client.test").contains("SMTPUTF8"));
      expect("553 5.6.7", utf8(c, "MAIL FROM:<josé@exämple.test>"));
      expect("250", utf8(c, "MAIL FROM:<josé@exämple.test> SMTPUTF8"));
      expect("250", utf8(c, "RCPT TO:<用户@例子.test>"));
      expect("250", utf8(c, "RCPT TO:<plain@例子.test>"));
      expect("500 5.5.2", utf8(c, "NOOP ünïcode"));
      expect("354", c.send("DATA"));
      c.output().write((message + ".\r\n").getBytes(StandardCharsets.UTF_8));
      expect("250", c.reply());
      c.output().write(new byte[] {'R', 'C', 'P', 'T', ' ', (byte) 0xC3, '\r', '\n'});
      expect("500 5.5.2 Invalid UTF-8", c.reply());
    }
    Submission submission = received.get(0);
    assertEquals("josé@xn--exmple-cua.test", submission.sender());
    assertEquals(List.of("用户@xn--fsqu00a.test", "plain@xn--fsqu00a.test"), submission.recipients());
    assertArrayEquals(
        message.getBytes(StandardCharsets.UTF_8), Submissions.bytes(submission.content()));
    assertEquals("UTF8SMTP", submission.receptionProtocol());
  }

  private static String utf8(SmtpClient c, String command) throws IOException {
    c.output().write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
    c.output().flush();
    return c.reply();
  }

  @Test
  void refusesConnectionsBeyondTheLimits() throws Exception {
    int port =
        startWithLimits(
            new ListenerSettings.Limits(
                10, 1, true, Duration.ofMinutes(1), Duration.ofMinutes(1), 20, 8192, 10_000));
    try (SmtpClient first = new SmtpClient(port)) {
      expect("220", first.reply());
      try (SmtpClient second = new SmtpClient(port)) {
        assertEquals("421 4.7.0 mx.test too many connections from 127.0.0.1", second.reply());
        assertNull(second.reply());
      }
      // Another address of the loopback network is a different client.
      try (SmtpClient other = new SmtpClient("127.0.0.2", port)) {
        expect("220", other.reply());
      }
      expect("250", first.send("NOOP"));
    }
    assertTrue(refusals.stream().anyMatch(r -> r.reason().equals("max_connections_per_ip")));
  }

  @Test
  void relayHostsAreExemptFromThePerAddressLimitUnlessConfigured() throws Exception {
    for (boolean exempt : new boolean[] {true, false}) {
      ListenerSettings.Limits limits =
          new ListenerSettings.Limits(
              10, 1, exempt, Duration.ofMinutes(1), Duration.ofMinutes(1), 20, 8192, 10_000);
      int port =
          start(
              TlsSettings.Mode.OFF,
              s ->
                  new ListenerSettings(
                      s.name(),
                      s.address(),
                      s.port(),
                      s.hostname(),
                      s.maxMessageSize(),
                      s.maxRecipients(),
                      List.of(Cidr.parse("127.0.0.1/32")),
                      s.relayDomains(),
                      s.workerThreads(),
                      limits,
                      s.tls(),
                      s.auth(),
                      s.tlsRequired(),
                      java.util.Set.of()));
      // Each second connection is opened after the first one's greeting, so the server counted it.
      try (SmtpClient first = new SmtpClient(port)) {
        expect("220", first.reply());
        try (SmtpClient second = new SmtpClient(port)) {
          if (exempt) {
            expect("220", second.reply());
            expect("250", second.send("NOOP"));
          } else {
            assertEquals("421 4.7.0 mx.test too many connections from 127.0.0.1", second.reply());
          }
        }
        // A client outside relay_hosts is held to the limit either way.
        try (SmtpClient other = new SmtpClient("127.0.0.2", port)) {
          expect("220", other.reply());
          try (SmtpClient otherAgain = new SmtpClient("127.0.0.2", port)) {
            assertEquals(
                "421 4.7.0 mx.test too many connections from 127.0.0.2", otherAgain.reply());
          }
        }
      }
      running.close();
      running = null;
    }
  }

  @Test
  void refusesConnectionsBeyondTheListenersTotalAndDropsSilentSenders() throws Exception {
    int port =
        startWithLimits(
            new ListenerSettings.Limits(
                1, 0, true, Duration.ofMinutes(1), Duration.ofSeconds(1), 20, 8192, 10_000));
    try (SmtpClient first = new SmtpClient(port)) {
      expect("220", first.reply());
      try (SmtpClient second = new SmtpClient("127.0.0.2", port)) {
        assertEquals("421 4.3.2 mx.test too many connections", second.reply());
      }
      first.send("EHLO client.test");
      first.send("MAIL FROM:<a@sender.test>");
      first.send("RCPT TO:<b@local.test>");
      expect("354", first.send("DATA"));
      first.write("Subject: slow\r\n");
      // Silent for longer than data_timeout (1 s) but not command_timeout (1 min).
      assertEquals("421 4.4.2 mx.test Error: timeout exceeded", first.reply());
    }
    assertTrue(received.isEmpty());
    assertTrue(refusals.stream().anyMatch(r -> r.reason().equals("max_connections")));
    // The timeout's record is made as the server closes the session, just after the reply is sent.
    awaitRefusal(r -> r.reason().equals("data_timeout") && r.recipients().size() == 1);
  }

  @Test
  void badClientsAreCutOffAndNormalOnesServed() throws Exception {
    int port =
        startWithLimits(
            new ListenerSettings.Limits(
                10, 10, true, Duration.ofSeconds(1), Duration.ofSeconds(1), 3, 1000, 2000));
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      expect("500 5.5.2 line too long", c.send("X".repeat(2 * 1024 * 1024)));
      expect("250", c.send("NOOP"));
      expect("500 5.5.2", c.send("HELO a\0b"));
      expect("500", c.send("WHAT"));
      expect("421 4.7.0", c.send("EVER"));
      assertNull(c.reply());
    }
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      c.send("DATA");
      c.write(
          "X-Big: "
              + "x".repeat(900)
              + "\r\nX-More: "
              + "y".repeat(900)
              + "\r\nX-Last: "
              + "z".repeat(300)
              + "\r\n\r\nbody\r\n.\r\n");
      expect("552 5.3.4 header section", c.reply());
      String silence = c.reply();
      assertEquals("421 4.4.2 mx.test Error: timeout exceeded", silence);
    }
    assertTrue(received.isEmpty());
    assertTrue(refusals.stream().anyMatch(r -> r.reason().equals("max_bad_commands")));
    assertTrue(refusals.stream().anyMatch(r -> r.reason().equals("max_header_size")));
    assertTrue(refusals.stream().anyMatch(r -> r.reason().equals("command_timeout")));
  }

  private void awaitRefusal(java.util.function.Predicate<Refusal> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    while (refusals.stream().noneMatch(wanted) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(refusals.stream().anyMatch(wanted), "refusals: " + refusals);
  }
}
