package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Batches of queue entries ordered by due time. Holds only the entries' metadata; message bytes
 * stay in the spool.
 */
final class Scheduler {
  private final PriorityQueue<Batch> entries =
      new PriorityQueue<>(Comparator.comparing(Batch::due));
  private final Clock clock;
  private boolean closed;

  Scheduler(Clock clock) {
    this.clock = clock;
  }

  synchronized void add(Batch entry) {
    entries.add(entry);
    notifyAll();
  }

  /** Waits for the next batch that is due; {@code null} once the scheduler is closed. */
  synchronized Batch takeDue() throws InterruptedException {
    while (!closed) {
      Batch head = entries.peek();
      if (head == null) {
        wait();
        continue;
      }
      long waitMillis = head.due().toEpochMilli() - Instant.now(clock).toEpochMilli();
      if (waitMillis <= 0) {
        return entries.poll();
      }
      wait(waitMillis);
    }
    return null;
  }

  synchronized void close() {
    closed = true;
    notifyAll();
  }
}
