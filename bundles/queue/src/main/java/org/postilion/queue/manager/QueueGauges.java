package org.postilion.queue.manager;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.postilion.api.admin.QueueCounts;
import org.postilion.api.spool.QueueEntry;

/**
 * Recipients per queue, counted as they enter and leave rather than by walking the schedule, so a
 * metrics scrape costs the number of queues, not the number of recipients.
 */
final class QueueGauges {
  private final Map<String, Tally> tallies = new ConcurrentHashMap<>();

  private static final class Tally {
    final LongAdder queued = new LongAdder();
    final LongAdder inDelivery = new LongAdder();
    final LongAdder delayed = new LongAdder();
  }

  private Tally tally(String queue) {
    return tallies.computeIfAbsent(queue, q -> new Tally());
  }

  /** Spooled (at reception, or read back at start). */
  void added(QueueEntry entry) {
    Tally tally = tally(entry.queue());
    tally.queued.increment();
    if (entry.attempts() > 0) {
      tally.delayed.increment();
    }
  }

  /** Gone from the spool: delivered, bounced, expired. */
  void removed(QueueEntry entry) {
    Tally tally = tally(entry.queue());
    tally.queued.decrement();
    if (entry.attempts() > 0) {
      tally.delayed.decrement();
    }
  }

  /** Failed for the first time and will be tried again. */
  void firstFailure(String queue, int recipients) {
    tally(queue).delayed.add(recipients);
  }

  void deliveryStarted(Batch batch) {
    tally(batch.queue()).inDelivery.add(batch.size());
  }

  void deliveryEnded(Batch batch) {
    tally(batch.queue()).inDelivery.add(-batch.size());
  }

  /** Queues that hold mail now, by name. */
  Map<String, QueueCounts> snapshot() {
    Map<String, QueueCounts> counts = new TreeMap<>();
    tallies.forEach(
        (queue, tally) -> {
          long queued = tally.queued.sum();
          long inDelivery = Math.max(0, tally.inDelivery.sum());
          if (queued > 0 || inDelivery > 0) {
            counts.put(
                queue,
                new QueueCounts(
                    Math.max(0, queued - inDelivery),
                    inDelivery,
                    Math.max(0, tally.delayed.sum())));
          }
        });
    return counts;
  }
}
