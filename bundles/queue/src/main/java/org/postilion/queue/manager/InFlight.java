package org.postilion.queue.manager;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Batches that left their scheduled queue for delivery and whose outcome is not booked yet: while
 * their site is resolved, in a ready queue, in a session. Counted in the gauges as in delivery.
 */
final class InFlight {
  private final Set<Batch> batches = ConcurrentHashMap.newKeySet();
  private final QueueGauges gauges;

  InFlight(QueueGauges gauges) {
    this.gauges = gauges;
  }

  void start(Batch batch) {
    if (batches.add(batch)) {
      gauges.deliveryStarted(batch);
    }
  }

  /** The batch is back in a queue or its outcome is booked; a second call does nothing. */
  void end(Batch batch) {
    if (batches.remove(batch)) {
      gauges.deliveryEnded(batch);
    }
  }

  void forEach(Consumer<Batch> visitor) {
    batches.forEach(visitor);
  }

  int size() {
    return batches.size();
  }
}
