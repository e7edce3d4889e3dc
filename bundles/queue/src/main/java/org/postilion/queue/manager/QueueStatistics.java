package org.postilion.queue.manager;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.queue.QueueName;

/** Adds up the queue manager's batches per scheduled queue for the queue summary. */
final class QueueStatistics {
  private final Map<String, Tally> tallies = new HashMap<>();

  private static final class Tally {
    int recipients;
    long oldest = Long.MAX_VALUE;
    long nextDue = Long.MAX_VALUE;
    int inDelivery;
    String waitingFor;
  }

  void add(Batch batch, String state) {
    Tally tally = tallies.computeIfAbsent(batch.queue(), q -> new Tally());
    tally.recipients += batch.size();
    tally.oldest = Math.min(tally.oldest, batch.createdMillis());
    switch (state) {
      case "scheduled" -> tally.nextDue = Math.min(tally.nextDue, batch.dueMillis());
      case "in delivery", "ready", "routing" -> tally.inDelivery += batch.size();
      case "suspended" -> {
        // The queue's state says so; held mail has no due time of its own.
      }
      default -> tally.waitingFor = state;
    }
  }

  /**
   * One status per queue, by name.
   *
   * @param protocolOf the protocol each queue's configuration names now
   * @param suspended whether a suspension covers the queue now
   */
  List<ScheduledQueueStatus> statuses(
      Function<QueueName, String> protocolOf, Predicate<QueueName> suspended) {
    List<ScheduledQueueStatus> statuses = new ArrayList<>();
    new TreeMap<>(tallies)
        .forEach(
            (name, tally) -> {
              QueueName queue = QueueName.parse(name);
              String state =
                  suspended.test(queue)
                      ? "suspended"
                      : tally.waitingFor != null ? tally.waitingFor : "active";
              statuses.add(
                  new ScheduledQueueStatus(
                      name,
                      protocolOf.apply(queue),
                      tally.recipients,
                      Instant.ofEpochMilli(tally.oldest),
                      tally.nextDue == Long.MAX_VALUE ? null : Instant.ofEpochMilli(tally.nextDue),
                      tally.inDelivery,
                      state));
            });
    return statuses;
  }
}
