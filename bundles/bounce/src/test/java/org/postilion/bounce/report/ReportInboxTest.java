package org.postilion.bounce.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.event.EventRecord;
import org.postilion.api.reception.Submission;
import org.postilion.bounce.classify.ShippedRules;
import org.postilion.testkit.TypedConfig;

class ReportInboxTest {
  @TempDir Path folder;
  private final List<EventRecord> published = new CopyOnWriteArrayList<>();
  private ReportInboxComponent inbox;

  private ReportInboxComponent start() throws Exception {
    return start(Map.of());
  }

  private ReportInboxComponent start(Map<String, Object> settings) throws Exception {
    inbox = new ReportInboxComponent();
    inbox.reader =
        new ReportParser(
            ShippedRules::classifier,
            null,
            Clock.systemUTC(),
            "557f3ad4-2c8c-11ee-976e-782d7e12e173");
    inbox.publisher = published::add;
    Map<String, Object> keys = new java.util.HashMap<>(settings);
    keys.put("folder", folder.toString());
    inbox.activate(TypedConfig.of(ReportInboxComponent.Config.class, keys), Map.of());
    return inbox;
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (inbox != null) {
      inbox.deactivate();
    }
  }

  private static Submission submission(String content) {
    return new Submission(
        "",
        List.of("bounces@news.example.org"),
        MessageContent.of(content.getBytes(StandardCharsets.UTF_8)),
        "ESMTP",
        "192.0.2.9",
        null,
        "mx.rcpt.test",
        null,
        null,
        "s1");
  }

  @Test
  void aReportIsOnDiskWhenAcceptedThenBecomesRecordsAndIsRemoved() throws Exception {
    start();
    String qmail = Files.readString(ReportParserTest.corpus("qmail.eml"), StandardCharsets.UTF_8);
    inbox.receive(submission(qmail));
    await("two OOB records", () -> published.size() == 2);
    EventRecord first = published.get(0);
    assertEquals("OOB", first.type().recordName());
    assertEquals("heidi@rcpt.test", first.recipient());
    assertEquals("bounces@news.example.org", first.sender(), "the address the report came to");
    assertEquals("mx.rcpt.test", first.peerAddress().name(), "the client that sent it");
    assertEquals("192.0.2.9", first.peerAddress().addr());
    await("the file removed", () -> files(folder.resolve("incoming")).isEmpty());
  }

  @Test
  void aMessageThatIsNoReportIsKeptForInspection() throws Exception {
    start();
    String letter = "From: a@b.test\r\nSubject: hello\r\n\r\nDo you ship to Norway?\r\n";
    inbox.receive(submission(letter));
    await("the letter in unrecognised/", () -> files(folder.resolve("unrecognised")).size() == 1);
    String kept = Files.readString(files(folder.resolve("unrecognised")).get(0));
    assertTrue(kept.contains("Delivered-To: bounces@news.example.org"), kept);
    assertTrue(kept.endsWith(letter), kept);
    assertTrue(published.isEmpty());
  }

  @Test
  void whatARestartInterruptedIsReadAtTheNextStart() throws Exception {
    Path incoming = Files.createDirectories(folder.resolve("incoming"));
    Files.copy(ReportParserTest.corpus("opensmtpd.eml"), incoming.resolve("left-1.eml"));
    start();
    await("the record of the report left behind", () -> published.size() == 1);
    assertEquals("niaj@rcpt.test", published.get(0).recipient());
  }

  @Test
  void pastMaxWaitingListenersAreToldToTryLater() throws Exception {
    start(Map.of("max_waiting", 1));
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    ReportReaderStub stub = new ReportReaderStub(reading, release);
    inbox.reader = stub;
    String letter = "From: a@b.test\r\nSubject: hello\r\n\r\nhi\r\n";
    inbox.receive(submission(letter));
    assertTrue(reading.await(10, java.util.concurrent.TimeUnit.SECONDS), "the first is being read");
    inbox.receive(submission(letter));
    org.postilion.api.reception.ReceptionException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            org.postilion.api.reception.ReceptionException.class,
            () -> inbox.receive(submission(letter)));
    assertEquals(452, refused.response().code());
    release.countDown();
    await("both kept", () -> files(folder.resolve("unrecognised")).size() == 2);
    inbox.receive(submission(letter));
  }

  /** Holds the first message in the reader until released. */
  private record ReportReaderStub(
      java.util.concurrent.CountDownLatch reading, java.util.concurrent.CountDownLatch release)
      implements org.postilion.api.bounce.ReportReader {
    @Override
    public org.postilion.api.bounce.Report read(java.io.InputStream message) {
      reading.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return org.postilion.api.bounce.Report.unrecognised("a test");
    }
  }

  private static List<Path> files(Path dir) {
    try (Stream<Path> list = Files.list(dir)) {
      return list.toList();
    } catch (java.io.IOException e) {
      return List.of();
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }
}
