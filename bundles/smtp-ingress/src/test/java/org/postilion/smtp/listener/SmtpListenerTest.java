package org.postilion.smtp.listener;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.Response;
import org.postilion.api.net.Cidr;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.api.trace.TraceEvent;
import org.postilion.smtp.tls.TlsSettings;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.Submissions;

class SmtpListenerTest {
  private final List<Submission> received = new CopyOnWriteArrayList<>();
  private volatile ReceptionException refusal;
  private final Reception reception =
      new Reception() {
        @Override
        public String receive(Submission submission) throws ReceptionException {
          if (refusal != null) {
            throw refusal;
          }
          received.add(Submissions.kept(submission));
          return "id" + received.size();
        }

        @Override
        public void refused(Refusal refused) {}
      };
  private SmtpListener.Running running;

  /** Records every transcript line, as a watcher of mta:trace-smtp-server would get them. */
  private volatile SmtpTrace trace;

  private static final class Recording implements SmtpTrace {
    final List<TraceEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public boolean watching(TraceEvent.Side side) {
      return side == TraceEvent.Side.SERVER;
    }

    @Override
    public void publish(TraceEvent event) {
      events.add(event);
    }

    @Override
    public Watch watch(
        TraceEvent.Side side, java.util.function.Predicate<TraceEvent> filter, int capacity) {
      throw new UnsupportedOperationException();
    }

    String transcript() {
      StringBuilder out = new StringBuilder();
      events.forEach(e -> out.append(e.line()).append('\n'));
      return out.toString();
    }
  }

  @AfterEach
  void stop() {
    if (running != null) {
      running.close();
    }
  }

  private int start(String relayHosts, Set<String> relayDomains, long maxSize, int maxRcpts)
      throws Exception {
    return start(relayHosts, relayDomains, maxSize, maxRcpts, Set.of(), reception::receive);
  }

  private int start(
      String relayHosts,
      Set<String> relayDomains,
      long maxSize,
      int maxRcpts,
      Set<String> reportDomains,
      SpoolingMessageHook.Destination destination)
      throws Exception {
    List<Cidr> hosts = relayHosts.isEmpty() ? List.of() : List.of(Cidr.parse(relayHosts));
    ListenerSettings settings =
        new ListenerSettings(
            "test",
            "127.0.0.1",
            0,
            "mx.test",
            maxSize,
            maxRcpts,
            hosts,
            relayDomains,
            4,
            ListenerSettings.Limits.defaults(),
            new TlsSettings(
                TlsSettings.Mode.OFF,
                null,
                null,
                Path.of("target"),
                "mx.test",
                List.of("TLSv1.3"),
                List.of()),
            ListenerSettings.Auth.defaults(),
            false,
            reportDomains);
    running =
        SmtpListener.start(
            settings, reception, destination, (user, password) -> Optional.empty(), () -> trace);
    return running.server().getListenAddresses().get(0).getPort();
  }

  @Test
  void advertisesExtensionsAndQueuesTheExactBytes() throws Exception {
    int port = start("127.0.0.1/32", Set.of(), 1_000_000, 10);
    try (SmtpClient c = new SmtpClient(port)) {
      assertTrue(c.reply().startsWith("220 mx.test ESMTP Postilion"));
      String ehlo = c.send("EHLO client.test");
      for (String keyword :
          new String[] {"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 1000000"}) {
        assertTrue(ehlo.contains(keyword), keyword + " missing from " + ehlo);
      }
      assertTrue(c.send("MAIL FROM:<a@sender.test>").startsWith("250"));
      assertTrue(c.send("RCPT TO:<b@anywhere.test>").startsWith("250"));
      assertTrue(c.send("DATA").startsWith("354"));
      c.write("Subject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\n");
      assertEquals("250 2.0.0 Ok queued as id1", c.reply());
    }
    Submission submission = received.get(0);
    assertEquals("a@sender.test", submission.sender());
    assertEquals(List.of("b@anywhere.test"), submission.recipients());
    assertArrayEquals(
        "Subject: hi\r\n\r\n.dot line\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII),
        Submissions.bytes(submission.content()));
  }

  @Test
  void aWatchedSessionsTranscriptShowsCommandsAndRepliesButNotDataOrCredentials() throws Exception {
    Recording recording = new Recording();
    trace = recording;
    int port = start("127.0.0.1/32", Set.of(), 1_000_000, 10);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      assertTrue(c.send("AUTH PLAIN c2VjcmV0IHBhc3N3b3Jk").startsWith("5"));
      // A command split over two reads is one line in the transcript.
      c.write("MAIL FROM:<a@sen");
      Thread.sleep(100);
      c.write("der.test>\r");
      Thread.sleep(100);
      c.write("\n");
      assertTrue(c.reply().startsWith("250"));
      c.send("RCPT TO:<b@anywhere.test>");
      c.send("DATA");
      // The end marker split over two writes, and a body line that looks like a command.
      c.write("Subject: secret\r\n\r\nRCPT TO:<not@a.command>\r");
      Thread.sleep(100);
      c.write("\n.\r\n");
      assertEquals("250 2.0.0 Ok queued as id1", c.reply());
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<c@anywhere.test>");
      c.write("BDAT 9 LAST\r\nSubject:x");
      assertEquals("250 2.0.0 Ok queued as id2", c.reply());
      assertTrue(c.send("QUIT").startsWith("221"));
    }
    await(() -> recording.transcript().contains("=== Closed"));
    String transcript = recording.transcript();
    assertTrue(transcript.contains("=== Connected"), transcript);
    assertTrue(transcript.contains(" <- 220 mx.test ESMTP Postilion"), transcript);
    assertTrue(transcript.contains(" -> EHLO client.test"), transcript);
    assertTrue(transcript.contains(" -> AUTH PLAIN ****"), transcript);
    assertTrue(transcript.contains(" -> RCPT TO:<b@anywhere.test>"), transcript);
    assertTrue(transcript.contains(" -> MAIL FROM:<a@sender.test>\n"), transcript);
    assertFalse(transcript.contains(" -> \n"), "no empty line from a CR LF split: " + transcript);
    assertTrue(transcript.contains(" <- 354"), transcript);
    assertTrue(transcript.contains(" -> (44 bytes of message data)"), transcript);
    assertTrue(transcript.contains(" -> BDAT 9 LAST"), transcript);
    assertTrue(transcript.contains(" -> (9 bytes of BDAT data)"), transcript);
    assertTrue(transcript.contains(" <- 250 2.0.0 Ok queued as id2"), transcript);
    assertFalse(transcript.contains("secret"), transcript);
    assertFalse(transcript.contains("c2VjcmV0"), transcript);
    assertFalse(transcript.contains("not@a.command"), transcript);
    assertTrue(
        recording.events.stream()
            .allMatch(
                e ->
                    "test".equals(e.context().listener())
                        && "127.0.0.1".equals(e.context().clientAddress())),
        transcript);
  }

  private static void await(java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(20);
    }
  }

  @Test
  void refusesToRelayForOthersButAcceptsRelayDomains() throws Exception {
    int port = start("10.0.0.0/8", Set.of("local.test"), 1_000_000, 10);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      assertEquals("550 5.7.1 relaying denied", c.send("RCPT TO:<b@elsewhere.test>"));
      assertEquals("550 5.7.1 relaying denied", c.send("RCPT TO:<postmaster@elsewhere.test>"));
      assertTrue(c.send("RCPT TO:<b@LOCAL.test>").startsWith("250"));
    }
  }

  @Test
  void aReportListenerTakesMailForItsReportDomainsOnlyAndHandsItToTheInbox() throws Exception {
    List<Submission> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    int port =
        start(
            "127.0.0.1/32",
            Set.of(),
            1_000_000,
            10,
            Set.of("bounces.test"),
            submission -> {
              reports.add(Submissions.kept(submission));
              return "r1";
            });
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO mx.elsewhere.test");
      assertTrue(c.send("MAIL FROM:<>").startsWith("250"));
      // Never a relay, not even for a client of relay_hosts.
      assertEquals("550 5.7.1 relaying denied", c.send("RCPT TO:<b@elsewhere.test>"));
      assertTrue(c.send("RCPT TO:<return@BOUNCES.test>").startsWith("250"));
      assertTrue(c.send("DATA").startsWith("354"));
      c.write("Subject: Undelivered Mail\r\n\r\nreport\r\n.\r\n");
      assertEquals("250 2.0.0 Ok queued as r1", c.reply());
    }
    assertEquals(List.of("return@bounces.test"), reports.get(0).recipients());
    assertTrue(received.isEmpty(), "nothing queued for delivery");
  }

  @Test
  void rejectsBareLineFeedsInData() throws Exception {
    int port = start("127.0.0.1/32", Set.of(), 1_000_000, 10);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@x.test>");
      c.send("DATA");
      c.write("Subject: smuggle\r\n\r\nbody\n.\nMAIL FROM:<evil@x.test>\r\n.\r\n");
      assertTrue(c.reply().startsWith("521 5.5.2"));
      assertNull(c.reply(), "the session must be closed");
    }
    assertTrue(received.isEmpty());
  }

  @Test
  void enforcesTheSizeLimitBeforeAndDuringData() throws Exception {
    int port = start("127.0.0.1/32", Set.of(), 1000, 10);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      assertTrue(c.send("MAIL FROM:<a@sender.test> SIZE=5000").startsWith("552 5.3.4"));
      assertTrue(c.send("MAIL FROM:<a@sender.test>").startsWith("250"));
      c.send("RCPT TO:<b@x.test>");
      c.send("DATA");
      c.write("Subject: big\r\n\r\n" + "x".repeat(100).concat("\r\n").repeat(20) + ".\r\n");
      assertTrue(c.reply().startsWith("552"));
      assertTrue(c.send("NOOP").startsWith("250"), "the session goes on after a refusal");
    }
    assertTrue(received.isEmpty());
  }

  @Test
  void limitsRecipientsPerMessage() throws Exception {
    int port = start("127.0.0.1/32", Set.of(), 1000, 2);
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      assertTrue(c.send("RCPT TO:<1@x.test>").startsWith("250"));
      assertTrue(c.send("RCPT TO:<2@x.test>").startsWith("250"));
      assertEquals("452 4.5.3 too many recipients", c.send("RCPT TO:<3@x.test>"));
    }
  }

  @Test
  void passesOnTheQueueManagersRefusal() throws Exception {
    int port = start("127.0.0.1/32", Set.of(), 1000, 2);
    refusal = new ReceptionException(Response.of(451, "4.3.0", "cannot queue the message now"));
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<1@x.test>");
      c.send("DATA");
      c.write("Subject: x\r\n\r\nx\r\n.\r\n");
      assertEquals("451 4.3.0 cannot queue the message now", c.reply());
    }
  }
}
