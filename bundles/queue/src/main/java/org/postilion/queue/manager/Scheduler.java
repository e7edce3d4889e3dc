package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.PriorityQueue;
import org.postilion.api.spool.QueueEntry;

/**
 * Queue entries ordered by due time. Holds only the entries' metadata; message bytes stay in the
 * spool.
 */
final class Scheduler {
  private final PriorityQueue<QueueEntry> entries =
      new PriorityQueue<>(Comparator.comparing(QueueEntry::due));
  private final Clock clock;
  private boolean closed;

  Scheduler(Clock clock) {
    this.clock = clock;
  }

  synchronized void add(QueueEntry entry) {
    entries.add(entry);
    notifyAll();
  }

  /** Waits for the next entry that is due; {@code null} once the scheduler is closed. */
  synchronized QueueEntry takeDue() throws InterruptedException {
    while (!closed) {
      QueueEntry head = entries.peek();
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
