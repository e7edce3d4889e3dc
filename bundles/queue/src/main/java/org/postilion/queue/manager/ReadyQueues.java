package org.postilion.queue.manager;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.delivery.DeliveryProtocol;

/** Every ready queue, by site and egress source; new ones come with their first message. */
final class ReadyQueues implements ReadyQueue.Environment {
  private final Map<ReadyQueueKey, ReadyQueue> queues = new ConcurrentHashMap<>();

  /**
   * Protocol services that went away: no new ready queue is made for them. Held weakly, so that a
   * bundle uninstalled or updated does not stay in memory through its old service object (protocols
   * do not override equals: the map compares them by identity).
   */
  private final Set<DeliveryProtocol> gone =
      Collections.newSetFromMap(Collections.synchronizedMap(new WeakHashMap<>()));

  private final AdminActions actions;
  private final Courier courier;

  private final QueueMetrics metrics;
  private final Supplier<SharedLimits> sharedLimits;

  ReadyQueues(
      AdminActions actions,
      Courier courier,
      QueueMetrics metrics,
      Supplier<SharedLimits> sharedLimits) {
    this.actions = actions;
    this.courier = courier;
    this.metrics = metrics;
    this.sharedLimits = sharedLimits;
  }

  @Override
  public SharedLimits sharedLimits() {
    return sharedLimits.get();
  }

  @Override
  public void connectionOpened(ReadyQueueKey key) {
    metrics.connectionOpened(key);
  }

  @Override
  public void deliveryTook(ReadyQueueKey key, long nanos) {
    metrics.delivered(key.protocol(), nanos);
  }

  /**
   * Puts the delivery into the ready queue of its site and source.
   *
   * @return {@link ReadyQueue.Offer#FULL} when that queue holds {@code max_ready} already
   */
  ReadyQueue.Offer offer(Delivery delivery, DeliveryProtocol protocol) {
    ReadyQueueKey key = delivery.key();
    while (true) {
      if (gone.contains(protocol)) {
        return ReadyQueue.Offer.PROTOCOL_GONE;
      }
      ReadyQueue queue = queues.computeIfAbsent(key, k -> new ReadyQueue(k, protocol, this));
      if (queue.protocol() != protocol) {
        // The protocol was replaced: its old queue is closing; this one takes the new service.
        queues.remove(key, queue);
        continue;
      }
      ReadyQueue.Offer offer = queue.offer(delivery);
      if (offer == ReadyQueue.Offer.FULL) {
        metrics.readyFull(key, delivery.queue().toString());
      }
      if (offer != ReadyQueue.Offer.GONE) {
        return offer;
      }
      // It retired just now, with its last thread gone: make way for a fresh one.
      queues.remove(key, queue);
    }
  }

  /** Closes the queues of a protocol that went away; returns what waited in them. */
  List<Delivery> closeProtocol(DeliveryProtocol protocol) {
    gone.add(protocol);
    List<Delivery> waiting = new ArrayList<>();
    for (ReadyQueue queue : queues.values()) {
      if (queue.protocol() == protocol) {
        queues.remove(queue.key(), queue);
        waiting.addAll(queue.close());
      }
    }
    return waiting;
  }

  /** A protocol service is (again) in service. */
  void protocolAvailable(DeliveryProtocol protocol) {
    gone.remove(protocol);
  }

  /** Takes the matching waiting deliveries out of every queue, for an admin action. */
  List<Delivery> takeIf(Predicate<Batch> filter) {
    List<Delivery> taken = new ArrayList<>();
    for (ReadyQueue queue : queues.values()) {
      taken.addAll(queue.takeIf(filter));
    }
    return taken;
  }

  void forEach(BiConsumer<Delivery, String> visitor) {
    for (ReadyQueue queue : queues.values()) {
      queue.forEach(visitor);
    }
  }

  List<ReadyQueueStatus> statuses() {
    List<ReadyQueueStatus> statuses = new ArrayList<>();
    for (ReadyQueue queue : queues.values()) {
      statuses.add(queue.status());
    }
    statuses.sort(Comparator.comparing(ReadyQueueStatus::name));
    return statuses;
  }

  /** Stops every queue; returns what waited. */
  List<Delivery> closeAll(long waitMillis) throws InterruptedException {
    List<Delivery> waiting = new ArrayList<>();
    List<ReadyQueue> all = new ArrayList<>(queues.values());
    queues.clear();
    for (ReadyQueue queue : all) {
      waiting.addAll(queue.close());
    }
    long deadline = System.currentTimeMillis() + waitMillis;
    for (ReadyQueue queue : all) {
      queue.awaitStop(Math.max(1, deadline - System.currentTimeMillis()));
    }
    return waiting;
  }

  @Override
  public boolean isSuspended(ReadyQueueKey key) {
    return actions.isReadySuspended(key.site()) || actions.isReadySuspended(key.name());
  }

  /** The ready queue with this name ({@code source->site@protocol}), if it exists now. */
  Optional<ReadyQueue> named(String name) {
    return queues.values().stream().filter(q -> q.key().name().equals(name)).findFirst();
  }

  @Override
  public Courier courier() {
    return courier;
  }

  @Override
  public void retired(ReadyQueue queue) {
    queues.remove(queue.key(), queue);
  }
}
