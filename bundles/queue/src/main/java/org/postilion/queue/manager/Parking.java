package org.postilion.queue.manager;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Batches that wait for something other than time: one that is not installed ({@code
 * protocol:smtp}, {@code pool:warm}), a queue file to be fixed ({@code config:<file>}), or the end
 * of an operator's suspension (by its id). They leave when what they wait for comes.
 */
final class Parking {
  private final Map<String, List<Batch>> parked = new ConcurrentHashMap<>();
  private final Map<String, List<Batch>> held = new ConcurrentHashMap<>();

  /** Parks a batch until {@link #release} names its reason. */
  synchronized void park(String reason, Batch batch) {
    parked.computeIfAbsent(reason, k -> new ArrayList<>()).add(batch);
  }

  /**
   * Holds a batch for a suspension; false when it ended meanwhile. Asked under the lock that {@link
   * #releaseHeld} takes after the suspension ended, so no batch is held after its release.
   */
  synchronized boolean hold(String suspensionId, Batch batch, BooleanSupplier inForce) {
    if (!inForce.getAsBoolean()) {
      return false;
    }
    held.computeIfAbsent(suspensionId, k -> new ArrayList<>()).add(batch);
    return true;
  }

  /** Takes out the batches parked for a matching reason. */
  synchronized List<Batch> release(Predicate<String> reasons) {
    List<Batch> released = new ArrayList<>();
    parked.forEach(
        (reason, batches) -> {
          if (reasons.test(reason)) {
            released.addAll(batches);
            batches.clear();
          }
        });
    parked.values().removeIf(List::isEmpty);
    return released;
  }

  /** Takes out the batches a suspension held. */
  synchronized List<Batch> releaseHeld(String suspensionId) {
    List<Batch> released = held.remove(suspensionId);
    return released == null ? List.of() : released;
  }

  /** Takes out the matching batches, held ones too when asked. */
  synchronized List<Batch> takeIf(Predicate<Batch> filter, boolean includingHeld) {
    List<Batch> taken = new ArrayList<>();
    for (List<Batch> batches : parked.values()) {
      takeFrom(batches, filter, taken);
    }
    if (includingHeld) {
      for (List<Batch> batches : held.values()) {
        takeFrom(batches, filter, taken);
      }
    }
    return taken;
  }

  private static void takeFrom(List<Batch> from, Predicate<Batch> filter, List<Batch> into) {
    from.removeIf(
        batch -> {
          if (filter.test(batch)) {
            into.add(batch);
            return true;
          }
          return false;
        });
  }

  /** Shows every waiting batch with its state, as the queue listing words it. */
  synchronized void forEach(BiConsumer<Batch, String> visitor) {
    parked.forEach(
        (reason, batches) -> {
          String state = "waiting for " + reason.replace(":", " ");
          batches.forEach(batch -> visitor.accept(batch, state));
        });
    held.values().forEach(batches -> batches.forEach(batch -> visitor.accept(batch, "suspended")));
  }
}
