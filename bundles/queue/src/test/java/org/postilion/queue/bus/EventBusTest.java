package org.postilion.queue.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.testkit.EventRecords;

class EventBusTest {
  @TempDir Path folder;

  private static EventRecord record(int n) {
    return EventRecords.of(EventType.DELIVERY, "r" + n + "@c.test", Instant.now())
        .id("m" + n)
        .response(Response.of(250, "2.0.0", "ok " + n))
        .meta(Map.of("k", "v" + n))
        .build();
  }

  @Test
  void aSubscriberThatFallsBehindGetsEveryRecordInOrderFromDiskWithoutHoldingUpPublishers()
      throws Exception {
    EventBus bus = new EventBus(folder, 10, EventBus.MAX_WAITING_BYTES);
    CountDownLatch blocked = new CountDownLatch(1);
    List<EventRecord> slow = new CopyOnWriteArrayList<>();
    List<EventRecord> fast = new CopyOnWriteArrayList<>();
    bus.subscribe(
        record -> {
          try {
            blocked.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          slow.add(record);
        });
    bus.subscribe(fast::add);
    long start = System.nanoTime();
    for (int i = 0; i < 1000; i++) {
      bus.publish(record(i));
    }
    assertTrue(
        System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "publishing waited for a reader");
    awaitSize(fast, 1000);
    try (var files = Files.list(folder)) {
      // The first subscriber's records wait in its own file (the second may have one too).
      assertEquals(1, files.filter(f -> f.toString().endsWith("-1.spill")).count());
    }
    assertTrue(bus.backlog() >= 989, "records wait for the slow subscriber: " + bus.backlog());
    blocked.countDown();
    awaitSize(slow, 1000);
    for (int i = 0; i < 1000; i++) {
      assertEquals("m" + i, slow.get(i).id());
      assertEquals("v" + i, slow.get(i).meta().get("k"));
    }
    assertEquals(0, bus.backlog());
    bus.close();
  }

  @Test
  void aSubscriberThatThrowsDoesNotStopTheOthers() throws Exception {
    EventBus bus = new EventBus(folder);
    List<EventRecord> good = new CopyOnWriteArrayList<>();
    bus.subscribe(
        record -> {
          throw new IllegalStateException("broken subscriber");
        });
    bus.subscribe(good::add);
    for (int i = 0; i < 5; i++) {
      bus.publish(record(i));
    }
    awaitSize(good, 5);
    bus.close();
  }

  /**
   * A durable subscriber that goes away (its bundle stopped) and comes back gets every record made
   * meanwhile, in order, from memory and from disk; one still away at stop gets them in the next
   * run.
   */
  @Test
  void aDurableSubscriberGetsTheRecordsMadeWhileItWasAwayEvenAcrossARestart() throws Exception {
    EventBus bus = new EventBus(folder, 10, EventBus.MAX_WAITING_BYTES);
    List<EventRecord> first = new CopyOnWriteArrayList<>();
    EventListener firstLog = first::add;
    bus.subscribe(firstLog, "event-log");
    bus.publish(record(0));
    awaitSize(first, 1);
    bus.unsubscribe(firstLog);
    for (int i = 1; i <= 50; i++) {
      bus.publish(record(i));
    }
    assertEquals(50, bus.backlog());
    assertEquals(1, first.size());

    List<EventRecord> second = new CopyOnWriteArrayList<>();
    EventListener secondLog = second::add;
    bus.subscribe(secondLog, "event-log");
    awaitSize(second, 50);
    for (int i = 0; i < 50; i++) {
      assertEquals("m" + (i + 1), second.get(i).id());
    }

    // Away at stop: 30 records, 10 in memory and 20 on disk, are kept for the next run.
    bus.unsubscribe(secondLog);
    for (int i = 51; i <= 80; i++) {
      bus.publish(record(i));
    }
    bus.close();
    assertTrue(Files.size(folder.resolve("durable-event-log.spill")) > 0);

    EventBus next = new EventBus(folder, 10, EventBus.MAX_WAITING_BYTES);
    next.publish(record(81));
    List<EventRecord> third = new CopyOnWriteArrayList<>();
    next.subscribe(third::add, "event-log");
    awaitSize(third, 31);
    for (int i = 0; i < 31; i++) {
      assertEquals("m" + (i + 51), third.get(i).id());
    }
    next.close();
    assertFalse(Files.exists(folder.resolve("durable-event-log.spill")));
  }

  @Test
  void recordsForADurableSubscriberAwayTooLongAreDroppedPastTheLimit() throws Exception {
    EventBus bus = new EventBus(folder, 2, 2_000);
    List<EventRecord> log = new CopyOnWriteArrayList<>();
    EventListener away = log::add;
    bus.subscribe(away, "event-log");
    bus.unsubscribe(away);
    for (int i = 0; i < 200; i++) {
      bus.publish(record(i));
    }
    long waiting = bus.backlog();
    assertTrue(waiting > 2 && waiting < 200, "waiting: " + waiting);
    bus.subscribe(log::add, "event-log");
    awaitSize(log, (int) waiting);
    assertEquals("m0", log.get(0).id());
    bus.close();
  }

  private static void awaitSize(List<?> list, int size) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (list.size() < size && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(size, list.size());
  }
}
