package org.postilion.delivery.maildir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.queue.RetrySchedule;

class MaildirProtocolTest {
  @TempDir Path root;
  private final MaildirProtocol protocol = new MaildirProtocol();
  private static final byte[] BODY =
      "Subject: test\r\n\r\nHello\r\n".getBytes(StandardCharsets.US_ASCII);

  private static DeliveryRequest request(String template, String recipient, QueueName queue) {
    Map<String, String> keys = template == null ? Map.of() : Map.of("maildir.path", template);
    QueueConfig config =
        new QueueConfig(
            "test.cfg",
            "maildir",
            new RetrySchedule(Duration.ofMinutes(1), null),
            Duration.ofDays(1),
            null,
            null,
            keys);
    MessageContent content =
        new MessageContent() {
          @Override
          public InputStream open() {
            return new ByteArrayInputStream(BODY);
          }

          @Override
          public long size() {
            return BODY.length;
          }
        };
    return new DeliveryRequest(
        "m1", "a@b.c", List.of(recipient), queue, config, 1, content, EgressSource.UNSPECIFIED);
  }

  private static List<Path> files(Path folder) throws Exception {
    try (Stream<Path> list = Files.list(folder)) {
      return list.toList();
    }
  }

  @Test
  void writesIntoNewThroughTmpUnderTheExpandedPath() throws Exception {
    String template = root + "/{tenant}/{domain}/{user}";
    DeliveryResult result =
        protocol.write(
            request(template, "Bob@Example.COM", QueueName.of(null, "acme", "example.com")));
    assertEquals(Disposition.DELIVERED, result.recipients().get(0).disposition());
    Path maildir = root.resolve("acme/example.com/Bob");
    List<Path> delivered = files(maildir.resolve("new"));
    assertEquals(1, delivered.size());
    assertArrayEquals(BODY, Files.readAllBytes(delivered.get(0)));
    assertTrue(files(maildir.resolve("tmp")).isEmpty());
    assertTrue(Files.isDirectory(maildir.resolve("cur")));
  }

  @Test
  void givesEachMessageItsOwnName() throws Exception {
    String template = root + "/box";
    for (int i = 0; i < 5; i++) {
      protocol.write(request(template, "u@example.com", QueueName.of(null, null, "example.com")));
    }
    assertEquals(5, files(root.resolve("box/new")).size());
  }

  @Test
  void refusesMailboxNamesThatLeaveTheFolder() {
    DeliveryResult result =
        protocol.write(
            request(root + "/{user}", "../../etc@example.com", QueueName.of(null, null, "x")));
    assertEquals(Disposition.PERMANENT_FAILURE, result.recipients().get(0).disposition());
    assertEquals(550, result.recipients().get(0).response().code());
  }

  @Test
  void missingPathIsATransientConfigurationProblem() {
    DeliveryResult result =
        protocol.write(request(null, "u@example.com", QueueName.of(null, null, "example.com")));
    assertEquals(Disposition.TRANSIENT_FAILURE, result.recipients().get(0).disposition());
    assertTrue(result.recipients().get(0).response().content().contains("maildir.path"));
  }

  @Test
  void anUnwritableFolderIsATransientFailure() throws Exception {
    Path blocker = root.resolve("file");
    Files.writeString(blocker, "not a folder");
    DeliveryResult result =
        protocol.write(
            request(blocker + "/box", "u@example.com", QueueName.of(null, null, "example.com")));
    assertEquals(Disposition.TRANSIENT_FAILURE, result.recipients().get(0).disposition());
  }

  @Test
  void leftoversOfADeadWriterAndOldFilesInTmpAreRemovedAtTheFirstWrite() throws Exception {
    Path box = root.resolve("box");
    Path tmp = Files.createDirectories(box.resolve("tmp"));
    String host = java.net.InetAddress.getLocalHost().getHostName();
    long dead = deadPid();
    Path crashed = Files.writeString(tmp.resolve("1700000000.M1P" + dead + "Q7." + host), "x");
    Path stale = Files.writeString(tmp.resolve("someone-elses-file"), "x");
    Files.setLastModifiedTime(
        stale,
        java.nio.file.attribute.FileTime.from(
            java.time.Instant.now().minus(TmpSweeper.ABANDONED).minusSeconds(60)));
    Path live =
        Files.writeString(
            tmp.resolve("1700000000.M1P" + ProcessHandle.current().pid() + "Q8." + host), "x");
    Path fresh = Files.writeString(tmp.resolve("a-reader-is-writing-this"), "x");

    protocol.write(request(box.toString(), "u@example.com", QueueName.of(null, null, "x")));

    assertTrue(Files.notExists(crashed));
    assertTrue(Files.notExists(stale));
    assertTrue(Files.exists(live));
    assertTrue(Files.exists(fresh));
    assertEquals(1, files(box.resolve("new")).size());
  }

  /** A process id no process has now. */
  private static long deadPid() throws Exception {
    Process process = new ProcessBuilder("true").start();
    process.waitFor();
    long pid = process.pid();
    assertTrue(ProcessHandle.of(pid).isEmpty());
    return pid;
  }

  @Test
  void aBrokenTemplateIsATransientConfigurationProblem() {
    DeliveryResult result =
        protocol.write(
            request(root + "/{mailbox}", "u@example.com", QueueName.of(null, null, "x")));
    assertEquals(Disposition.TRANSIENT_FAILURE, result.recipients().get(0).disposition());
    assertTrue(result.recipients().get(0).response().content().contains("{mailbox}"));
  }
}
