package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.DnsResponder;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;

/**
 * SMTP delivery through the real distribution: accepted over SMTP, spooled, and relayed to a real
 * SMTP server started by the test, through a smarthost list or through MX records served by a DNS
 * responder on 127.0.0.1.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SmtpDeliveryIT extends PostilionTestSupport {
  private static final String DNS_PORT_PROPERTY = "postilion.itest.dns.port";

  @Override
  protected Option[] extraOptions() {
    String dnsPort = String.valueOf(freePort());
    return new Option[] {
      systemProperty(DNS_PORT_PROPERTY).value(dnsPort),
      editConfigurationFilePut(
          "etc/org.postilion.delivery.smtp.cfg", "resolver.servers", "127.0.0.1:" + dnsPort),
      editConfigurationFilePut("etc/org.postilion.delivery.smtp.cfg", "command_timeout", "10s"),
      editConfigurationFilePut("etc/org.postilion.delivery.smtp.cfg", "idle_timeout", "2s"),
    };
  }

  private static String message(String subject) {
    return "From: sender@example.org\r\nTo: rcpt\r\nSubject: "
        + subject
        + "\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <"
        + subject
        + "@example.org>\r\n\r\nline one\r\n.a dotted line\r\n\u00e9t\u00e9 8-bit\r\n";
  }

  /** Routes {@code domain} to the test server as a smarthost, retrying after a second. */
  private void routeToSmarthost(String domain, TestSmtpServer server) throws Exception {
    writeQueueConfig(
        "itest-" + domain.replace('.', '-'),
        "match.domain = "
            + domain
            + "\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
            + server.port()
            + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\nretry.interval = 1s\n");
  }

  private static String send(String recipient, String content) throws Exception {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      return smtp.sendMessage("sender@example.org", recipient, content);
    }
  }

  @Test
  public void relaysTheExactBytesToASmarthost() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      routeToSmarthost("relay.test", sink);
      String content = message("exact");
      assertTrue(send("alice@relay.test", content).startsWith("250 "));
      await("the sink to receive the message", WAIT, () -> sink.received().size() == 1);
      TestSmtpServer.Received received = sink.received().get(0);
      assertDeliveredAsSent(content, received.content());
      assertEquals("sender@example.org", received.sender());
      await(
          "a Delivery record naming the peer",
          WAIT,
          () -> hasRecord("Delivery", "alice@relay.test", "\"addr\":\"127.0.0.1\""));
    }
  }

  @Test
  public void liveTranscriptsOfBothSidesShowTheSessionsThatMatch() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      routeToSmarthost("traced.test", sink);
      ExecutorService consoles = Executors.newFixedThreadPool(4);
      try {
        Future<String> server =
            consoles.submit(
                () -> shell("mta:trace-smtp-server --client 127.0.0.0/8 --duration 8s"));
        Future<String> client =
            consoles.submit(
                () -> shell("mta:trace-smtp-client --domain traced.test --duration 8s"));
        // Watchers of another client range and of another domain see none of it.
        Future<String> otherClients =
            consoles.submit(
                () -> shell("mta:trace-smtp-server --client 192.0.2.0/24 --duration 8s"));
        Future<String> otherDomain =
            consoles.submit(() -> shell("mta:trace-smtp-client --domain other.test --duration 8s"));
        Thread.sleep(1_500); // the commands start watching
        String content = message("traced");
        assertTrue(send("tina@traced.test", content).startsWith("250 "));
        await("the sink to receive the message", WAIT, () -> sink.received().size() == 1);

        String incoming = server.get(30, TimeUnit.SECONDS);
        assertTrue(incoming, incoming.contains("-> MAIL FROM:<sender@example.org>"));
        assertTrue(incoming, incoming.contains("-> RCPT TO:<tina@traced.test>"));
        assertTrue(incoming, incoming.contains("<- 354"));
        assertTrue(incoming, incoming.contains("bytes of message data)"));
        assertTrue(incoming, incoming.contains("<- 250 2.0.0 Ok queued as"));
        assertFalse(incoming, incoming.contains("Subject: traced"));
        String outgoing = client.get(30, TimeUnit.SECONDS);
        assertTrue(outgoing, outgoing.contains("-> RCPT TO:<tina@traced.test>"));
        assertTrue(outgoing, outgoing.contains("bytes of message data)"));
        assertTrue(outgoing, outgoing.contains("<- 250"));
        for (Future<String> other : List.of(otherClients, otherDomain)) {
          String none = other.get(30, TimeUnit.SECONDS);
          assertFalse(none, none.contains("tina@traced.test") || none.contains("Error"));
        }
        assertTrue(shell("mta:trace-smtp-server --client nonsense").contains("Error: --client"));
      } finally {
        consoles.shutdownNow();
      }
    }
  }

  @Test
  public void aTransientReplyIsRetriedThenDelivered() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      AtomicInteger dots = new AtomicInteger();
      sink.replies(
          command ->
              command.equals(".") && dots.incrementAndGet() == 1
                  ? "451 4.3.0 busy, come back"
                  : null);
      routeToSmarthost("retry.test", sink);
      assertTrue(send("bob@retry.test", message("retry")).startsWith("250 "));
      await(
          "a TransientFailure record with the server's reply",
          WAIT,
          () -> hasRecord("TransientFailure", "bob@retry.test", "busy, come back"));
      await("the retried delivery", WAIT, () -> sink.received().size() == 1);
      await(
          "a Delivery record", WAIT, () -> hasRecord("Delivery", "bob@retry.test", "\"code\":250"));
      assertEquals(2, dots.get());
    }
  }

  @Test
  public void aPermanentReplyBouncesWithoutRetry() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      AtomicInteger rcpts = new AtomicInteger();
      sink.replies(
          command -> {
            // Commands arrive upper-cased.
            if (command.startsWith("RCPT") && command.contains("CAROL@")) {
              rcpts.incrementAndGet();
              return "550 5.1.1 no such user here";
            }
            return null;
          });
      routeToSmarthost("bounce.test", sink);
      assertTrue(send("carol@bounce.test", message("bounce")).startsWith("250 "));
      await(
          "a Bounce record with the server's reply",
          WAIT,
          () ->
              hasRecord("Bounce", "carol@bounce.test", enhancedCode("5.1.1"))
                  && hasRecord("Bounce", "carol@bounce.test", "no such user here"));
      // A retry would be due a second after the bounce; a message queued after that, in the same
      // queue, is delivered only once the dispatcher has passed that point.
      Thread.sleep(1500);
      assertTrue(send("dan@bounce.test", message("later")).startsWith("250 "));
      await("the later message at the sink", WAIT, () -> sink.received().size() == 1);
      assertEquals("one attempt only", 1, rcpts.get());
      assertFalse(hasRecord("TransientFailure", "carol@bounce.test", ""));
    }
  }

  @Test
  public void resolvesMxRecordsAndBouncesNullMx() throws Exception {
    try (TestSmtpServer mx = new TestSmtpServer(null);
        DnsResponder dns = new DnsResponder(Integer.getInteger(DNS_PORT_PROPERTY))) {
      dns.add("mx.test.", 300, "MX", "20 backup.mx.test.")
          .add("mx.test.", 300, "MX", "10 primary.mx.test.")
          .add("primary.mx.test.", 300, "A", "127.0.0.1")
          .add("backup.mx.test.", 300, "A", "127.0.0.1")
          .add("nullmx.test.", 300, "MX", "0 .");
      writeQueueConfig(
          "itest-mx",
          "match.domain = *.test\nprotocol = smtp\nsmtp.port = "
              + mx.port()
              + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\n");
      assertTrue(send("dave@mx.test", message("mx")).startsWith("250 "));
      await("delivery to the MX host", WAIT, () -> mx.received().size() == 1);
      await(
          "a Delivery record from the primary MX",
          WAIT,
          () -> hasRecord("Delivery", "dave@mx.test", "\"name\":\"primary.mx.test\""));

      assertTrue(send("erin@nullmx.test", message("nullmx")).startsWith("250 "));
      await(
          "a Bounce record for the null MX",
          WAIT,
          () -> hasRecord("Bounce", "erin@nullmx.test", enhancedCode("5.1.10")));
    }
  }

  /**
   * A misspelled protocol key is refused when the file is written, naming the file and the key, and
   * mail keeps the version in force before the edit; mta:protocols lists the keys.
   */
  @Test
  public void aMisspelledKeyIsRefusedAndThePreviousVersionStays() throws Exception {
    try (TestSmtpServer before = new TestSmtpServer(null);
        TestSmtpServer after = new TestSmtpServer(null)) {
      routeToSmarthost("typo.test", before);
      assertTrue(send("gil@typo.test", message("typo-1")).startsWith("250 "));
      await("the first message at the first smarthost", WAIT, () -> before.received().size() == 1);

      writeEtcFile(
          "org.postilion.queue-itest-typo-test.cfg",
          "match.domain = typo.test\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
              + after.port()
              + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\nsmtp.conection_limit = 3\n");
      await(
          "the rejection in the log",
          WAIT,
          () ->
              karafLog()
                  .contains(
                      "org.postilion.queue-itest-typo-test.cfg rejected, key"
                          + " smtp.conection_limit: not a key of protocol smtp"));
      assertTrue(send("hal@typo.test", message("typo-2")).startsWith("250 "));
      await("the second message at the first smarthost", WAIT, () -> before.received().size() == 2);
      assertEquals(0, after.connections());

      String protocols = shell("mta:protocols");
      assertTrue(protocols, protocols.contains("smtp.mx_list"));
      assertTrue(protocols, protocols.contains("maildir.path"));
      assertTrue(protocols, protocols.contains("webhook.url"));
    }
  }
}
