package org.postilion.spool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.derby.jdbc.EmbeddedDataSource;
import org.apache.derby.jdbc.EmbeddedDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.Selector;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
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
  void keepsTheCapturedHeadersAndMetaOfAMessageAcrossAReopen() {
    spool = openSpool();
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Subject", "tabs\there, a back\\slash\r\nand lines");
    headers.put("X-Customer", "42");
    spool.store(
        new MessageRecord(
            "m9", "", now, 3, null, null, "HTTP", headers, Map.of("listener", "default")),
        List.of(new QueueEntry(new EntryKey("m9", 0), "a@example.com", "example.com", now, now, 0)),
        new ByteArrayInputStream(body("x\r\n")));
    storeMessage("m10", body("y\r\n"), "b@example.com");
    spool.close();

    spool = openSpool();
    MessageRecord message = spool.message("m9").orElseThrow();
    assertEquals(headers, message.logHeaders());
    assertEquals(List.of("Subject", "X-Customer"), List.copyOf(message.logHeaders().keySet()));
    assertEquals(Map.of("listener", "default"), message.logMeta());
    assertEquals(Map.of(), spool.message("m10").orElseThrow().logHeaders());
  }

  @Test
  void aSpoolOfSchemaTwoIsUpgradedKeepingItsMail() throws Exception {
    spool = openSpool();
    storeMessage("old", body("z\r\n"), "c@example.com");
    spool.close();
    spool = null;
    // Back to what version 2 wrote: no log_data column.
    Path database = dir.resolve("spool");
    EmbeddedDataSource source = new EmbeddedDataSource();
    source.setDatabaseName(database.toAbsolutePath().toString());
    try (Connection c = source.getConnection();
        Statement s = c.createStatement()) {
      s.executeUpdate("ALTER TABLE message DROP COLUMN log_data");
      s.executeUpdate("UPDATE spool_meta SET schema_version = 2");
    }
    try {
      new EmbeddedDriver()
          .connect("jdbc:derby:" + database.toAbsolutePath() + ";shutdown=true", new Properties());
    } catch (SQLException e) {
      assertEquals("08006", e.getSQLState(), "a clean shutdown");
    }

    spool = openSpool();
    assertEquals("from@a.test", spool.message("old").orElseThrow().sender());
    storeMessage("new", body("n\r\n"), "d@example.com");
    List<QueueEntry> entries = new ArrayList<>();
    spool.forEachQueued(entries::add);
    assertEquals(2, entries.size());
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

  @Test
  void keepsAdminActionsAcrossAReopenUntilDeleted() {
    spool = openSpool();
    Instant created = Instant.parse("2026-01-01T00:00:00Z");
    AdminAction suspend =
        new AdminAction(
            "s1",
            AdminAction.Kind.SUSPEND,
            new Selector("example.com", "acme", null, null),
            null,
            "maintenance",
            created,
            null);
    AdminAction ready =
        new AdminAction(
            "r1",
            AdminAction.Kind.SUSPEND_READY,
            null,
            "mx.example.com:25",
            "blocked",
            created.plusSeconds(1),
            created.plusSeconds(3600));
    spool.saveAdminAction(suspend);
    spool.saveAdminAction(ready);
    spool.close();

    spool = openSpool();
    assertEquals(List.of(suspend, ready), spool.adminActions());
    spool.deleteAdminAction("s1");
    assertEquals(List.of(ready), spool.adminActions());
  }

  @Test
  void listsAMessagesEntriesWithTheirLastResponse() {
    spool = openSpool();
    storeMessage("m5", body("x\r\n"), "a@example.com", "b@example.com");
    Instant later = Instant.parse("2026-01-01T00:20:00Z");
    spool.reschedule(new EntryKey("m5", 1), later, 1, "451 4.0.0 try later");
    List<Spool.StoredEntry> entries = spool.entries("m5");
    assertEquals(2, entries.size());
    assertEquals("a@example.com", entries.get(0).entry().recipient());
    assertEquals(null, entries.get(0).lastResponse());
    assertEquals("451 4.0.0 try later", entries.get(1).lastResponse());
    assertEquals(1, entries.get(1).entry().attempts());
    assertTrue(spool.entries("nope").isEmpty());
  }
}
