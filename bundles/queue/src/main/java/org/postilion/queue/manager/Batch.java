package org.postilion.queue.manager;

import java.time.Instant;
import java.util.List;
import org.postilion.api.spool.QueueEntry;

/**
 * The recipients of one message in one scheduled queue that are due together: they go to the
 * destination in one delivery request (one SMTP transaction).
 */
record Batch(
    String messageId,
    String queue,
    Instant created,
    Instant due,
    int attempts,
    List<QueueEntry> entries) {

  Batch {
    entries = List.copyOf(entries);
  }

  static Batch of(List<QueueEntry> entries) {
    QueueEntry first = entries.get(0);
    return new Batch(
        first.key().messageId(),
        first.queue(),
        first.created(),
        first.due(),
        first.attempts(),
        entries);
  }

  /** The entries that failed, due again at {@code next} after {@code attemptsSoFar} attempts. */
  static Batch retry(List<QueueEntry> failed, Instant next, int attemptsSoFar) {
    return Batch.of(failed.stream().map(e -> e.withRetry(next, attemptsSoFar)).toList());
  }

  /** The same batch, due at {@code when}; the spool is not told, as nothing was attempted. */
  Batch dueAt(Instant when) {
    return new Batch(messageId, queue, created, when, attempts, entries);
  }

  List<String> recipients() {
    return entries.stream().map(QueueEntry::recipient).toList();
  }
}
