package org.postilion.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.SpoolException;

class DerbySpoolTest {
  @TempDir Path dir;
  private DerbySpool spool;

  @AfterEach
  void closeSpool() {
    if (spool != null) {
      spool.close();
    }
  }

  private DerbySpool openSpool() {
    DerbySpool opened = new DerbySpool();
    opened.open(dir.resolve("spool"), 4);
    return opened;
  }

  private static byte[] body(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  private void storeMessage(String id, byte[] content, String... recipients) {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    List<QueueEntry> entries = new ArrayList<>();
    for (int i = 0; i < recipients.length; i++) {
      entries.add(new QueueEntry(new EntryKey(id, i), recipients[i], "example.com", now, now, 0));
    }
    spool.store(
        new MessageRecord(id, "from@a.test", now, content.length, "acme", null, "ESMTP"),
        entries,
        new ByteArrayInputStream(content));
  }

  @Test
  void keepsMessagesAndEntriesAcrossAReopen() throws Exception {
    spool = openSpool();
    byte[] content = body("Subject: hi\r\n\r\nbody\r\n");
    storeMessage("m1", content, "a@example.com", "b@example.com");
    spool.close();

    spool = openSpool();
    List<QueueEntry> entries = new ArrayList<>();
    spool.forEachQueued(entries::add);
    assertEquals(2, entries.size());
    MessageRecord message = spool.message("m1").orElseThrow();
    assertEquals("from@a.test", message.sender());
    assertEquals("acme", message.tenant());
    assertEquals(content.length, message.size());
    try (InputStream in = spool.openContent("m1")) {
      assertArrayEquals(content, in.readAllBytes());
    }
  }

  @Test
  void reschedulesAndRemovesTheMessageWithItsLastEntry() {
    spool = openSpool();
    storeMessage("m2", body("x\r\n"), "a@example.com", "b@example.com");
    Instant later = Instant.parse("2026-01-01T00:20:00Z");
    spool.reschedule(new EntryKey("m2", 1), later, 1, "451 4.0.0 try later");
    List<QueueEntry> entries = new ArrayList<>();
    spool.forEachQueued(entries::add);
    QueueEntry retried = entries.stream().filter(e -> e.key().index() == 1).findFirst().get();
    assertEquals(later, retried.due());
    assertEquals(1, retried.attempts());

    spool.remove(new EntryKey("m2", 0));
    assertTrue(spool.message("m2").isPresent());
    spool.remove(new EntryKey("m2", 1));
    assertTrue(spool.message("m2").isEmpty());
    assertThrows(SpoolException.class, () -> spool.openContent("m2"));
  }

  @Test
  void concurrentRemovalsOfOneMessageDoNotDeadlock() throws Exception {
    spool = openSpool();
    String[] recipients = new String[20];
    for (int i = 0; i < recipients.length; i++) {
      recipients[i] = "r" + i + "@example.com";
    }
    storeMessage("m3", body("x\r\n"), recipients);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < recipients.length; i++) {
        EntryKey key = new EntryKey("m3", i);
        done.add(pool.submit(() -> spool.remove(key)));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    assertTrue(spool.message("m3").isEmpty());
  }

  @Test
  void streamsLargeContent() throws Exception {
    spool = openSpool();
    byte[] content = new byte[5 * 1024 * 1024];
    for (int i = 0; i < content.length; i++) {
      content[i] = (byte) ('a' + i % 26);
    }
    storeMessage("m4", content, "a@example.com");
    try (InputStream in = spool.openContent("m4")) {
      assertArrayEquals(content, in.readAllBytes());
    }
  }
}
