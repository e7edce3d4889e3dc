package org.postilion.queue.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.QueueEntry;

/**
 * The recipients of one message in one scheduled queue that are due together: they go to the
 * destination in one delivery request (one SMTP transaction).
 *
 * <p>A million of these can be queued at once, so they are kept small: times as epoch milliseconds,
 * the queue name shared between batches of one queue, no per-recipient objects.
 */
final class Batch {
  private final String messageId;
  private final String queue;
  private final long created;
  private final long due;
  private final int attempts;
  private final int[] indexes;
  private final String[] recipients;

  /** Set when the queue's rate limit already gave this batch its slot. */
  private final boolean slotReserved;

  /** Why the batch waits again in its scheduled queue, so a Delayed record is written once. */
  enum Delay {
    READY_FULL,
    MESSAGE_RATE,
    SUSPENDED,
    WAITING
  }

  /** The reasons already recorded since the last attempt, one bit each. */
  private final byte delays;

  private Batch(
      String messageId,
      String queue,
      long created,
      long due,
      int attempts,
      int[] indexes,
      String[] recipients,
      boolean slotReserved,
      byte delays) {
    this.delays = delays;
    this.messageId = messageId;
    this.queue = queue;
    this.created = created;
    this.due = due;
    this.attempts = attempts;
    this.indexes = indexes;
    this.recipients = recipients;
    this.slotReserved = slotReserved;
  }

  /** Entries of one message in one queue, all due at the same time after the same attempts. */
  static Batch of(List<QueueEntry> entries) {
    QueueEntry first = entries.get(0);
    int[] indexes = new int[entries.size()];
    String[] recipients = new String[entries.size()];
    for (int i = 0; i < indexes.length; i++) {
      indexes[i] = entries.get(i).key().index();
      recipients[i] = entries.get(i).recipient();
    }
    return new Batch(
        first.key().messageId(),
        first.queue().intern(),
        first.created().toEpochMilli(),
        first.due().toEpochMilli(),
        first.attempts(),
        indexes,
        recipients,
        false,
        (byte) 0);
  }

  /** The entries that failed, due again at {@code next} after {@code attemptsSoFar} attempts. */
  Batch retry(List<EntryKey> failed, Instant next, int attemptsSoFar) {
    Set<EntryKey> wanted = new HashSet<>(failed);
    int[] keptIndexes = new int[failed.size()];
    String[] keptRecipients = new String[failed.size()];
    int kept = 0;
    for (int i = 0; i < indexes.length; i++) {
      if (wanted.contains(new EntryKey(messageId, indexes[i]))) {
        keptIndexes[kept] = indexes[i];
        keptRecipients[kept] = recipients[i];
        kept++;
      }
    }
    return new Batch(
        messageId,
        queue,
        created,
        next.toEpochMilli(),
        attemptsSoFar,
        keptIndexes,
        keptRecipients,
        false,
        (byte) 0);
  }

  /** The same batch, due at {@code when}; the spool is not told, as nothing was attempted. */
  Batch dueAt(Instant when) {
    return copy(when.toEpochMilli(), false, delays);
  }

  /** The same batch holding a slot of its queue's rate limit that starts at {@code when}. */
  Batch withSlotAt(Instant when) {
    return copy(when.toEpochMilli(), true, delays);
  }

  /** The same batch, marked as having waited for {@code why}. */
  Batch delayed(Delay why) {
    return copy(due, slotReserved, (byte) (delays | (1 << why.ordinal())));
  }

  /** The same recipients and attempts; only when, the slot and the delay marks differ. */
  private Batch copy(long newDue, boolean slot, byte newDelays) {
    return new Batch(
        messageId, queue, created, newDue, attempts, indexes, recipients, slot, newDelays);
  }

  /** Whether it waited for {@code why} since its last attempt (and its record was written). */
  boolean delayedFor(Delay why) {
    return (delays & (1 << why.ordinal())) != 0;
  }

  String messageId() {
    return messageId;
  }

  String queue() {
    return queue;
  }

  Instant created() {
    return Instant.ofEpochMilli(created);
  }

  long dueMillis() {
    return due;
  }

  Instant due() {
    return Instant.ofEpochMilli(due);
  }

  long createdMillis() {
    return created;
  }

  int attempts() {
    return attempts;
  }

  boolean slotReserved() {
    return slotReserved;
  }

  int size() {
    return indexes.length;
  }

  List<String> recipients() {
    return List.of(recipients);
  }

  List<QueueEntry> entries() {
    List<QueueEntry> entries = new ArrayList<>(indexes.length);
    for (int i = 0; i < indexes.length; i++) {
      entries.add(
          new QueueEntry(
              new EntryKey(messageId, indexes[i]),
              recipients[i],
              queue,
              created(),
              due(),
              attempts));
    }
    return entries;
  }

  @Override
  public String toString() {
    return messageId + " in " + queue;
  }
}
