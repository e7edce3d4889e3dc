package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventRecord;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.queue.QueueRules;
import org.postilion.queue.bus.EventBus;

class OutcomesTest {
  private static final Records.Path PATH =
      new Records.Path("mx.x.test", "source1", "9bcd689e-23d9-41b7-a015-63a1382f8b57");
  @TempDir Path folder;
  private final MemorySpool spool = new MemorySpool();
  private final Clock clock = Clock.systemUTC();
  private final Scheduler scheduler = new Scheduler(clock);
  private final QueueGauges gauges = new QueueGauges();
  private final List<EventRecord> records = new CopyOnWriteArrayList<>();
  private EventBus bus;
  private Outcomes outcomes;

  private Outcomes outcomes() {
    bus = new EventBus(folder);
    bus.subscribe(records::add);
    AdminActions actions = new AdminActions(spool, clock, action -> {});
    outcomes =
        new Outcomes(
            spool,
            scheduler,
            new Records(
                bus,
                clock,
                "557f3ad4-2c8c-11ee-976e-782d7e12e173",
                () -> "node-test",
                name -> name,
                () -> response -> response.code() >= 500 ? "InvalidRecipient" : "TransientFailure"),
            gauges,
            new InFlight(gauges),
            actions,
            clock,
            new MessageCache(1 << 20));
    outcomes.start();
    return outcomes;
  }

  @AfterEach
  void stop() throws Exception {
    outcomes.close();
    bus.close();
  }

  /** A message with {@code count} recipients in the spool, as one batch. */
  private Batch queued(String id, int count) {
    Instant now = Instant.now(clock);
    List<QueueEntry> entries = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      entries.add(new QueueEntry(new EntryKey(id, i), "r" + i + "@x.test", "x.test", now, now, 0));
    }
    spool.store(
        new MessageRecord(id, "a@b.test", now, 10, null, null, "ESMTP"),
        entries,
        new java.io.ByteArrayInputStream(new byte[10]));
    return Batch.of(entries);
  }

  private static DeliveryResult result(Batch batch, Disposition disposition, Response response) {
    return new DeliveryResult(
        batch.recipients().stream()
            .map(r -> new RecipientResult(r, disposition, response))
            .toList(),
        null);
  }

  private static QueueConfig config() {
    return QueueRules.resolve(List.of(), QueueName.parse("x.test"));
  }

  @Test
  void deliveredBouncedAndFailedRecipientsAreBookedTogether() throws Exception {
    Outcomes outcomes = outcomes();
    List<CompletableFuture<Void>> booked = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Batch batch = queued("m" + i, 1);
      Disposition disposition =
          i % 3 == 0
              ? Disposition.DELIVERED
              : i % 3 == 1 ? Disposition.PERMANENT_FAILURE : Disposition.TRANSIENT_FAILURE;
      Response response =
          Response.of(i % 3 == 0 ? 250 : i % 3 == 1 ? 550 : 451, "x.0.0", "reply " + i);
      booked.add(
          outcomes.attempted(
              batch, null, config(), 1, PATH, result(batch, disposition, response), null));
    }
    for (CompletableFuture<Void> future : booked) {
      future.get(10, TimeUnit.SECONDS);
    }
    assertEquals(100, spool.queuedEntries(), "the transient ones stay");
    assertTrue(spool.updates.get() < 300, spool.updates.get() + " transactions for 300");
    Harness.await("300 records", Duration.ofSeconds(5), () -> records.size() == 300);
    assertEquals(100, records.stream().filter(r -> r.type().recordName().equals("Bounce")).count());
    assertTrue(records.stream().allMatch(r -> "mx.x.test".equals(r.site())));
    // Failures carry the classifier's class; deliveries are never classified.
    for (var record : records) {
      String expected =
          switch (record.type().recordName()) {
            case "Bounce" -> "InvalidRecipient";
            case "TransientFailure" -> "TransientFailure";
            default -> "Uncategorized";
          };
      assertEquals(expected, record.bounceClassification(), record.toJson());
    }
    assertTrue(records.stream().allMatch(r -> "source1".equals(r.egressSource())));
    assertTrue(records.stream().allMatch(r -> PATH.sessionId().equals(r.sessionId())));
    assertTrue(records.stream().allMatch(r -> r.nodeId() != null && r.numAttempts() == 1));
    var retried = spool.entries("m2").get(0);
    assertEquals(1, retried.entry().attempts());
    assertEquals("451 x.0.0 reply 2", retried.lastResponse());
  }

  @Test
  void whenTheSpoolCannotBookTheMailStaysQueuedForLater() throws Exception {
    Outcomes outcomes = outcomes();
    spool.failUpdates = true;
    Batch batch = queued("m1", 2);
    outcomes
        .attempted(
            batch,
            null,
            config(),
            1,
            PATH,
            result(batch, Disposition.DELIVERED, Response.of(250, "2.0.0", "ok")),
            null)
        .get(10, TimeUnit.SECONDS);
    assertEquals(2, spool.queuedEntries(), "nothing lost");
    List<Batch> later = new ArrayList<>();
    scheduler.forEach(later::add);
    assertEquals(1, later.size());
    assertTrue(later.get(0).due().isAfter(Instant.now().plusSeconds(30)));
  }

  @Test
  void aFailureWithoutAResultIsATransientFailureNamingTheCause() throws Exception {
    Outcomes outcomes = outcomes();
    Batch batch = queued("m1", 1);
    outcomes
        .attempted(batch, null, config(), 1, PATH, null, new IllegalStateException("it broke"))
        .get(10, TimeUnit.SECONDS);
    var entry = spool.entries("m1").get(0);
    assertTrue(entry.lastResponse().contains("it broke"), entry.lastResponse());
  }
}
