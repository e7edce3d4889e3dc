package org.postilion.queue.manager;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;

/**
 * Batches of queue entries ordered by due time. Holds only the entries' metadata; message bytes
 * stay in the spool.
 */
final class Scheduler {
  private final PriorityQueue<Batch> batches =
      new PriorityQueue<>(Comparator.comparingLong(Batch::dueMillis));
  private final Clock clock;
  private boolean closed;

  Scheduler(Clock clock) {
    this.clock = clock;
  }

  synchronized void add(Batch batch) {
    batches.add(batch);
    notifyAll();
  }

  /** Waits for the next batch that is due; {@code null} once the scheduler is closed. */
  synchronized Batch takeDue() throws InterruptedException {
    while (!closed) {
      Batch head = batches.peek();
      if (head == null) {
        wait();
        continue;
      }
      long waitMillis = head.dueMillis() - clock.millis();
      if (waitMillis <= 0) {
        return batches.poll();
      }
      wait(waitMillis);
    }
    return null;
  }

  /** Takes out every batch that matches, for an admin action to deal with. */
  synchronized List<Batch> removeIf(Predicate<Batch> filter) {
    List<Batch> removed = new ArrayList<>();
    // One pass and one re-heapify, so a million queued batches are no problem.
    batches.removeIf(
        batch -> {
          if (filter.test(batch)) {
            removed.add(batch);
            return true;
          }
          return false;
        });
    return removed;
  }

  /** Shows every waiting batch to {@code visitor}, which must be quick: dispatch waits. */
  synchronized void forEach(Consumer<Batch> visitor) {
    batches.forEach(visitor);
  }

  /**
   * Reads the queued entries back from the spool at a start; entries of one message due together
   * become one batch. Each entry is shown to {@code counted} too; returns how many there were.
   */
  int load(Spool spool, Consumer<QueueEntry> counted) {
    List<QueueEntry> group = new ArrayList<>();
    int[] count = {0};
    spool.forEachQueued(
        entry -> {
          if (!group.isEmpty() && !sameBatch(group.get(0), entry)) {
            add(Batch.of(group));
            group.clear();
          }
          group.add(entry);
          counted.accept(entry);
          count[0]++;
        });
    if (!group.isEmpty()) {
      add(Batch.of(group));
    }
    return count[0];
  }

  private static boolean sameBatch(QueueEntry first, QueueEntry next) {
    return first.key().messageId().equals(next.key().messageId())
        && first.queue().equals(next.queue())
        && first.due().equals(next.due())
        && first.attempts() == next.attempts();
  }

  synchronized void close() {
    closed = true;
    notifyAll();
  }
}
