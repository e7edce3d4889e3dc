package org.postilion.api.spool;

import java.time.Instant;

/**
 * One recipient of a message waiting in a scheduled queue: the unit the queue manager schedules.
 *
 * @param queue the scheduled queue name ({@code campaign:tenant@domain})
 * @param created when the message was received, for max_age
 * @param due when the next attempt is due
 * @param attempts how many attempts were made so far
 */
public record QueueEntry(
    EntryKey key, String recipient, String queue, Instant created, Instant due, int attempts) {

  public QueueEntry withRetry(Instant nextDue, int attemptsSoFar) {
    return new QueueEntry(key, recipient, queue, created, nextDue, attemptsSoFar);
  }
}
