package org.postilion.smtp.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.Response;
import org.postilion.api.net.Cidr;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.NoRoomException;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.smtp.tls.TlsSettings;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.Submissions;

/**
 * Every refusal is a Rejection record with a clean reply, and each message's reception buffer is
 * freed however its transaction ends.
 */
class RefusalRecordsTest {
  @TempDir Path folder;
  private final List<Submission> received = new CopyOnWriteArrayList<>();
  private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
  private final AtomicInteger openBuffers = new AtomicInteger();
  private volatile boolean noRoom;
  private volatile long roomLeft = Long.MAX_VALUE;
  private SmtpListener.Running running;
  private int port;

  /** In-memory buffers that count themselves and can run out of room like the real ones. */
  private final Reception reception =
      new Reception() {
        @Override
        public ContentBuffer buffer() throws ReceptionException {
          if (noRoom) {
            throw new ReceptionException(Response.of(451, "4.3.1", "insufficient system storage"));
          }
          openBuffers.incrementAndGet();
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          return new ContentBuffer() {
            private boolean closed;

            @Override
            public OutputStream output() {
              return new OutputStream() {
                @Override
                public void write(int b) throws NoRoomException {
                  write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws NoRoomException {
                  if (bytes.size() + len > roomLeft) {
                    throw new NoRoomException("no room");
                  }
                  bytes.write(b, off, len);
                }
              };
            }

            @Override
            public InputStream open() {
              return new java.io.ByteArrayInputStream(bytes.toByteArray());
            }

            @Override
            public long size() {
              return bytes.size();
            }

            @Override
            public synchronized void close() {
              if (!closed) {
                closed = true;
                openBuffers.decrementAndGet();
              }
            }
          };
        }

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

  @BeforeEach
  void start() throws Exception {
    TlsSettings tls =
        new TlsSettings(
            TlsSettings.Mode.OFF,
            null,
            null,
            folder,
            "mx.test",
            List.of("TLSv1.3", "TLSv1.2"),
            List.of());
    ListenerSettings settings =
        new ListenerSettings(
            "test",
            "127.0.0.1",
            0,
            "mx.test",
            10_000,
            2,
            List.of(Cidr.parse("10.0.0.0/8")),
            Set.of("local.test", "xn--fsqu00a.test"),
            4,
            ListenerSettings.Limits.defaults(),
            tls,
            new ListenerSettings.Auth(false, false, 3, Duration.ofMinutes(5)),
            false,
            java.util.Set.of());
    running = SmtpListener.start(settings, reception, (user, password) -> Optional.empty());
    port = running.server().getListenAddresses().get(0).getPort();
  }

  @AfterEach
  void stop() {
    running.close();
  }

  private Refusal refusal(String reason) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(5);
    while (Instant.now().isBefore(deadline)) {
      for (Refusal refusal : refusals) {
        if (refusal.reason().equals(reason)) {
          return refusal;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no " + reason + " refusal among " + refusals);
  }

  private void awaitBuffersFreed() throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(5);
    while (openBuffers.get() != 0 && Instant.now().isBefore(deadline)) {
      Thread.sleep(10);
    }
    assertEquals(0, openBuffers.get(), "reception buffers still open");
  }

  private static void expect(String prefix, String reply) {
    assertTrue(reply != null && reply.startsWith(prefix), "expected " + prefix + ", got " + reply);
  }

  @Test
  void anOversizedMessageIs552WithARecordAndItsBufferIsFreed() throws Exception {
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      expect("354", c.send("DATA"));
      assertEquals(1, openBuffers.get());
      c.write("Subject: big\r\n\r\n" + ("x".repeat(998) + "\r\n").repeat(20) + ".\r\n");
      assertEquals("552 5.3.4 message exceeds 10000 octets", c.reply());
      expect("250", c.send("NOOP"));
    }
    Refusal refusal = refusal("max_message_size");
    assertEquals(List.of("b@local.test"), refusal.recipients());
    assertEquals("552 5.3.4 message exceeds 10000 octets", refusal.response().toString());
    assertTrue(received.isEmpty());
    awaitBuffersFreed();
  }

  @Test
  void aDeclaredSizeOverTheLimitIsRefusedAtMail() throws Exception {
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      assertTrue(c.send("EHLO client.test").contains("SIZE 10000"));
      expect("552 5.3.4", c.send("MAIL FROM:<a@sender.test> SIZE=10001"));
      expect("501 5.5.4", c.send("MAIL FROM:<a@sender.test> SIZE=lots"));
      expect("250", c.send("MAIL FROM:<a@sender.test> SIZE=9000"));
    }
    assertEquals("552", String.valueOf(refusal("max_message_size").response().code()));
    refusal("bad_size_parameter");
  }

  @Test
  void relayDeniedAndTooManyRecipientsAreRecordedWithTheRecipient() throws Exception {
    try (SmtpClient c = new SmtpClient("127.0.0.2", port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      expect("550 5.7.1", c.send("RCPT TO:<x@elsewhere.test>"));
      expect("250", c.send("RCPT TO:<b@local.test>"));
      expect("250", c.send("RCPT TO:<c@local.test>"));
      expect("452 4.5.3", c.send("RCPT TO:<d@local.test>"));
    }
    assertEquals(List.of("x@elsewhere.test"), refusal("relay_denied").recipients());
    assertEquals(List.of("d@local.test"), refusal("max_recipients").recipients());
  }

  @Test
  void aClientThatLeavesMidMessageLeavesNoBufferBehind() throws Exception {
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      expect("354", c.send("DATA"));
      c.write("Subject: cut\r\n\r\nhalf a message\r\n");
      assertEquals(1, openBuffers.get());
    }
    awaitBuffersFreed();
    // And a BDAT transaction cut off between chunks.
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      c.write("BDAT 5\r\nSubje");
      expect("250", c.reply());
      assertEquals(1, openBuffers.get());
    }
    awaitBuffersFreed();
  }

  @Test
  void whenTheServerHasNoRoomDataAndBdatAre451() throws Exception {
    noRoom = true;
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      expect("451 4.3.1", c.send("DATA"));
      c.send("RSET");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      c.write("BDAT 4 LAST\r\nA: b");
      expect("451 4.3.1", c.reply());
    }
    noRoom = false;
    roomLeft = 20;
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      c.send("EHLO client.test");
      c.send("MAIL FROM:<a@sender.test>");
      c.send("RCPT TO:<b@local.test>");
      expect("354", c.send("DATA"));
      c.write("Subject: runs out of room\r\n\r\nbody\r\n.\r\n");
      expect("451 4.3.1", c.reply());
      expect("250", c.send("NOOP"));
    }
    refusal("no_room");
    assertTrue(received.isEmpty());
    awaitBuffersFreed();
  }

  @Test
  void repliesCarryNoStrayCharactersOrStandIns() throws Exception {
    try (SmtpClient c = new SmtpClient(port)) {
      c.reply();
      String ehlo = c.send("EHLO probe");
      assertTrue(ehlo.startsWith("250-mx.test Hello probe [127.0.0.1]\n"), ehlo);
      assertFalse(ehlo.contains("])"), ehlo);
      c.send("MAIL FROM:<a@sender.test> SMTPUTF8");
      c.output().write("RCPT TO:<用户@local.test>\r\n".getBytes(StandardCharsets.UTF_8));
      String rcpt = c.reply();
      expect("250", rcpt);
      assertFalse(rcpt.contains("smtputf8."), rcpt);
    }
  }
}
