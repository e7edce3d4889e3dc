package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;

class SchedulerTest {
  private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");

  private final Scheduler scheduler = new Scheduler(Clock.fixed(NOW, ZoneOffset.UTC));

  private static QueueEntry entry(String id, int index, String queue, Instant due, int attempts) {
    return new QueueEntry(
        new EntryKey(id, index), "r" + index + "@" + queue, queue, NOW, due, attempts);
  }

  private static Batch batch(String id, Instant due) {
    return Batch.of(List.of(entry(id, 0, "a.test", due, 0)));
  }

  /** {@link Scheduler#takeDue} on another thread, as the dispatcher calls it. */
  private CompletableFuture<Batch> takeDueElsewhere() {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return scheduler.takeDue();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  @Test
  void dueBatchesComeOutInDueOrderAndLaterOnesWait() throws Exception {
    scheduler.add(batch("later", NOW.plusSeconds(3600)));
    scheduler.add(batch("second", NOW.minusSeconds(10)));
    scheduler.add(batch("first", NOW.minusSeconds(20)));
    assertEquals("first", scheduler.takeDue().messageId());
    assertEquals("second", scheduler.takeDue().messageId());
    // The next is an hour away on a clock that stands still: the caller waits until closed.
    CompletableFuture<Batch> waiting = takeDueElsewhere();
    List<String> left = new ArrayList<>();
    scheduler.forEach(b -> left.add(b.messageId()));
    assertEquals(List.of("later"), left);
    scheduler.close();
    assertNull(waiting.get(10, TimeUnit.SECONDS));
  }

  @Test
  void aBatchAddedWhileWaitingWakesTheTaker() throws Exception {
    CompletableFuture<Batch> waiting = takeDueElsewhere();
    scheduler.add(batch("now", NOW));
    assertEquals("now", waiting.get(10, TimeUnit.SECONDS).messageId());
  }

  @Test
  void removeIfTakesOutOnlyWhatMatches() {
    scheduler.add(batch("keep", NOW.plusSeconds(60)));
    scheduler.add(batch("take-1", NOW.plusSeconds(30)));
    scheduler.add(batch("take-2", NOW.plusSeconds(90)));
    List<Batch> taken = scheduler.removeIf(b -> b.messageId().startsWith("take"));
    assertEquals(2, taken.size());
    List<String> left = new ArrayList<>();
    scheduler.forEach(b -> left.add(b.messageId()));
    assertEquals(List.of("keep"), left);
  }

  @Test
  void loadMakesOneBatchOfAMessagesEntriesDueTogetherInOneQueue() throws Exception {
    MemorySpool spool = new MemorySpool();
    Instant due = NOW.minusSeconds(1);
    Duration later = Duration.ofMinutes(20);
    // m1: two recipients due together in a.test, one in b.test, one retried later in a.test.
    store(
        spool,
        "m1",
        entry("m1", 0, "a.test", due, 0),
        entry("m1", 1, "a.test", due, 0),
        entry("m1", 2, "b.test", due, 0),
        entry("m1", 3, "a.test", due.plus(later), 1));
    store(spool, "m2", entry("m2", 0, "a.test", due, 0));
    List<QueueEntry> counted = new ArrayList<>();
    assertEquals(5, scheduler.load(spool, counted::add));
    assertEquals(5, counted.size());
    List<String> batches = new ArrayList<>();
    scheduler.forEach(b -> batches.add(b.messageId() + " " + b.queue() + " " + b.recipients()));
    batches.sort(String::compareTo);
    assertEquals(
        List.of(
            "m1 a.test [r0@a.test, r1@a.test]",
            "m1 a.test [r3@a.test]",
            "m1 b.test [r2@b.test]",
            "m2 a.test [r0@a.test]"),
        batches);
    assertTrue(scheduler.takeDue().dueMillis() <= NOW.toEpochMilli());
  }

  private static void store(MemorySpool spool, String id, QueueEntry... entries) {
    spool.store(
        new MessageRecord(id, "s@x.test", NOW, 3, null, null, "ESMTP"),
        List.of(entries),
        new ByteArrayInputStream(new byte[] {'a', '\r', '\n'}));
  }
}
