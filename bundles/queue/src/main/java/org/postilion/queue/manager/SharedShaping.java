package org.postilion.queue.manager;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.Throttle;

/**
 * A ready queue's limits marked {@code shared}, held across the cluster: the slots of its rates and
 * the leases of its connection limit, asked of Redis, or this node's share of them while Redis does
 * not answer.
 */
final class SharedShaping {

  /** The lease of a session whose limit is this node's alone. */
  static final SharedLimits.Lease NO_LEASE = () -> {};

  /** How long a thread waits before asking again for a shared connection lease. */
  private static final long LEASE_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final String queueName;

  // Guarded by this.
  private Throttle fallbackMessages;
  private Throttle fallbackConnections;

  /** Sessions holding (or about to open with) a lease of the shared connection limit. */
  private int leased;

  SharedShaping(String queueName) {
    this.queueName = queueName;
  }

  /**
   * The wait for the next message (or new session) under a shared rate: the cluster's schedule, or
   * this node's share of the rate while Redis does not answer.
   */
  long reserve(SharedLimits cluster, boolean messages, Rate rate) {
    try {
      return cluster.reserve((messages ? "messages:" : "connections:") + queueName, rate);
    } catch (SharedLimits.Unavailable e) {
      Throttle fallback;
      synchronized (this) {
        if (messages) {
          fallback = fallbackMessages = ReadyQueue.retune(fallbackMessages, cluster.fallback(rate));
        } else {
          fallback =
              fallbackConnections = ReadyQueue.retune(fallbackConnections, cluster.fallback(rate));
        }
      }
      return fallback.reserve(System.nanoTime());
    }
  }

  /**
   * Under a shared connection limit, waits for one of the cluster's leases (or, while Redis does
   * not answer, for a place within this node's share); {@link #NO_LEASE} when the limit is this
   * node's alone.
   *
   * @param current the queue's limits in force, null once it closed (then this returns null, as
   *     when the thread is interrupted)
   * @param waiting runs before the cluster is asked, so that a session shows it waits for a lease
   *     only when it does
   */
  SharedLimits.Lease awaitLease(
      Supplier<ShapingSettings> current, Supplier<SharedLimits> clusters, Runnable waiting) {
    while (true) {
      ShapingSettings limits = current.get();
      if (limits == null) {
        return null;
      }
      SharedLimits cluster = limits.shared() ? clusters.get() : null;
      if (cluster == null) {
        return NO_LEASE;
      }
      waiting.run();
      try {
        SharedLimits.Lease lease =
            cluster.acquire("sessions:" + queueName, limits.connectionLimit());
        if (lease != null) {
          synchronized (this) {
            leased++;
          }
          return new CountedLease(lease, cluster);
        }
      } catch (SharedLimits.Unavailable e) {
        // Sessions that took a lease before Redis went away count against this node's share too.
        synchronized (this) {
          if (leased < cluster.fallback(limits.connectionLimit())) {
            leased++;
            return new CountedLease(null, cluster);
          }
        }
      }
      // The caller's close() interrupts this thread.
      LockSupport.parkNanos(
          LEASE_RETRY_NANOS + ThreadLocalRandom.current().nextLong(LEASE_RETRY_NANOS));
      if (Thread.currentThread().isInterrupted()) {
        return null;
      }
    }
  }

  private synchronized void leaseEnded() {
    leased--;
  }

  /**
   * A session's place under a shared connection limit, counted here while it is open: a lease of
   * the cluster's, or none when it was taken within this node's share while Redis was away.
   */
  private final class CountedLease implements SharedLimits.Lease {
    private final SharedLimits.Lease lease;
    private final SharedLimits cluster;

    CountedLease(SharedLimits.Lease lease, SharedLimits cluster) {
      this.lease = lease;
      this.cluster = cluster;
    }

    /** Without a lease, the cluster counts the session only until Redis is back. */
    @Override
    public boolean held() {
      return lease != null ? lease.held() : !cluster.available();
    }

    @Override
    public void close() {
      leaseEnded();
      if (lease != null) {
        lease.close();
      }
    }
  }
}
