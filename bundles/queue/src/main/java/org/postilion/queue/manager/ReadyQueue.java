package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.postilion.api.admin.ReadyQueueDetails;
import org.postilion.api.admin.ReadyQueueSession;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.Throttle;

/**
 * One ready queue: mail for one destination site from one egress source, and the threads that hold
 * its sessions. It holds at most {@code max_ready} messages; each thread owns at most one session
 * and takes the next message until the session has carried {@code max_deliveries_per_connection} or
 * stayed idle for {@code idle_timeout}. The limits of the latest message apply: at most {@code
 * connection_limit} threads, messages spaced by {@code max_message_rate}, new sessions by {@code
 * max_connection_rate}. Whatever the site does, only these threads wait for it.
 */
final class ReadyQueue {

  /** How often waiting threads look again whether an operator lifted a suspension. */
  private static final long SUSPENSION_RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** What the threads need from the queue manager. */
  interface Environment {
    /** Whether an operator suspended this ready queue, by its name or its site's. */
    boolean isSuspended(ReadyQueueKey key);

    /** Delivers over the worker's session (opening one when needed) and books the outcome. */
    Courier courier();

    /** The queue stopped with nothing left to do: forget it. */
    void retired(ReadyQueue queue);

    /** A delivery over a session of this queue took {@code nanos} (KumoMTA's latency metric). */
    default void deliveryTook(ReadyQueueKey key, long nanos) {}

    /** A session of this queue was opened (KumoMTA's total_connection_count). */
    default void connectionOpened(ReadyQueueKey key) {}

    /** The cluster's shared limits; null on a node of its own. */
    default SharedLimits sharedLimits() {
      return null;
    }
  }

  /** What a thread does next: deliver, close its idle session, or end. */
  record Step(Delivery delivery, boolean closeIdle) {
    static final Step CLOSE_IDLE = new Step(null, true);
  }

  private final ReadyQueueKey key;
  private final DeliveryProtocol protocol;
  private final Environment environment;
  private final AtomicInteger threadNumber = new AtomicInteger();
  private final SharedShaping shared;

  /** Threads holding an open session now. */
  private final AtomicInteger sessions = new AtomicInteger();

  /** Deliveries under way, for inspection. */
  private final Set<Delivery> active = ConcurrentHashMap.newKeySet();

  /** Sessions opening or open, for inspection and operators' aborts. */
  private final Set<SessionState> live = ConcurrentHashMap.newKeySet();

  // Guarded by this.
  private final Deque<Delivery> ready = new ArrayDeque<>();
  private final List<Thread> workers = new ArrayList<>();
  private int busy;
  private int throttled;
  private ShapingSettings shaping = ShapingSettings.DEFAULTS;
  private Throttle messageThrottle;
  private Throttle connectionThrottle;
  private boolean closed;
  private boolean retired;
  private Instant connectionLimitedSince;
  private String egressPool;

  Environment environment() {
    return environment;
  }

  ReadyQueue(ReadyQueueKey key, DeliveryProtocol protocol, Environment environment) {
    this.key = key;
    this.protocol = protocol;
    this.environment = environment;
    this.shared = new SharedShaping(key.name());
  }

  ReadyQueueKey key() {
    return key;
  }

  DeliveryProtocol protocol() {
    return protocol;
  }

  /** What came of an offer. */
  enum Offer {
    ACCEPTED,
    /** {@code max_ready} messages wait already: the batch stays in its scheduled queue. */
    FULL,
    /** The queue retired or closed meanwhile: offer again to a new one. */
    GONE,
    /** The protocol went away: the batch goes back to its scheduled queue to wait for it. */
    PROTOCOL_GONE
  }

  Offer offer(Delivery delivery) {
    boolean suspended = environment.isSuspended(key);
    synchronized (this) {
      if (retired || closed) {
        return Offer.GONE;
      }
      apply(delivery.shaping());
      egressPool = delivery.config().egressPool();
      if (ready.size() >= shaping.maxReady()) {
        return Offer.FULL;
      }
      ready.addLast(delivery);
      // A suspended queue needs one thread only, to notice when the suspension ends.
      if (!suspended || workers.isEmpty()) {
        spawnIfUseful();
      }
      notify();
      return Offer.ACCEPTED;
    }
  }

  /** Takes the latest message's limits, so an operator's edit applies without a restart. */
  private void apply(ShapingSettings latest) {
    shaping = latest;
    messageThrottle = retune(messageThrottle, latest.maxMessageRate());
    connectionThrottle = retune(connectionThrottle, latest.maxConnectionRate());
  }

  static Throttle retune(Throttle throttle, Rate rate) {
    if (rate == null) {
      return null;
    }
    if (throttle == null) {
      return new Throttle(rate);
    }
    if (!rate.equals(throttle.rate())) {
      throttle.setRate(rate);
    }
    return throttle;
  }

  /**
   * Under the lock: starts a thread when mail waits that no thread is free to take. Under a message
   * rate the rate, not the number of sessions, bounds the throughput: another thread starts only
   * when none is free or waiting for the next slot, so the rate is kept over few sessions.
   */
  private void spawnIfUseful() {
    boolean limited = !ready.isEmpty() && workers.size() >= shaping.connectionLimit();
    if (!limited) {
      connectionLimitedSince = null;
    } else if (connectionLimitedSince == null) {
      connectionLimitedSince = Instant.now();
    }
    if (closed || limited || ready.isEmpty()) {
      return;
    }
    int free = workers.size() - busy;
    boolean wanted = messageThrottle == null ? ready.size() > free : free == 0 && throttled == 0;
    if (!wanted) {
      return;
    }
    Thread worker =
        DaemonThreads.of(
            "postilion-out-" + key.name() + "-" + threadNumber.incrementAndGet(),
            new ReadyQueueWorker(this, environment.courier()));
    workers.add(worker);
    worker.start();
  }

  /**
   * Waits for the next message: null when the thread should end (the queue closed, the connection
   * limit went down, nothing came within the idle timeout). While the queue is suspended nothing is
   * handed out; the last thread stays, looking again each second, to carry on when it ends. An idle
   * session whose lease the cluster no longer counts is closed within a second.
   */
  Step next(SessionState holding, SharedLimits.Lease lease) {
    boolean holdsSession = holding != null;
    long deadline;
    synchronized (this) {
      deadline = System.nanoTime() + shaping.idleTimeout().toNanos();
    }
    while (true) {
      // Asked before taking the lock: the admin actions have locks of their own.
      boolean suspended = environment.isSuspended(key);
      synchronized (this) {
        if (closed || workers.size() > shaping.connectionLimit()) {
          leave();
          return null;
        }
        if (holdsSession && (holding.aborted() || !lease.held())) {
          // An operator ended the idle session, or the cluster no longer counts it: it goes now,
          // not with the next message.
          return Step.CLOSE_IDLE;
        }
        if (!ready.isEmpty() && !suspended) {
          busy++;
          Delivery delivery = ready.pollFirst();
          active.add(delivery);
          return new Step(delivery, false);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          if (ready.isEmpty() || workers.size() > 1) {
            leave();
            return null;
          }
          if (holdsSession) {
            return Step.CLOSE_IDLE;
          }
        }
        long wait =
            ready.isEmpty()
                ? left
                : left > 0 ? Math.min(left, SUSPENSION_RECHECK_NANOS) : SUSPENSION_RECHECK_NANOS;
        if (holdsSession && lease != SharedShaping.NO_LEASE) {
          // Whether the cluster still counts the lease is looked at again each second.
          wait = Math.min(wait, SUSPENSION_RECHECK_NANOS);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(this, wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          leave();
          return null;
        }
      }
    }
  }

  /** A thread is done with a delivery. */
  void finished(Delivery delivery) {
    active.remove(delivery);
    synchronized (this) {
      busy--;
    }
  }

  /** Under the lock: the current thread ends; the queue retires when it was the last, unneeded. */
  private void leave() {
    if (!workers.remove(Thread.currentThread())) {
      return;
    }
    if (workers.isEmpty() && ready.isEmpty() && !closed) {
      retired = true;
    } else if (!ready.isEmpty()) {
      // The wake-up for waiting mail may have come to this thread: pass it on.
      notify();
    }
  }

  /** A thread's last act: tells the queue manager when the queue has retired with it. */
  void threadEnded() {
    boolean retire;
    synchronized (this) {
      leave();
      retire = retired;
    }
    if (retire) {
      environment.retired(this);
    }
  }

  synchronized ShapingSettings shaping() {
    return shaping;
  }

  /** Waits until the message rate lets one more message go; false when interrupted. */
  boolean awaitMessageSlot() {
    long wait = slotWait(true);
    if (wait > 0) {
      synchronized (this) {
        throttled++;
      }
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } finally {
        synchronized (this) {
          throttled--;
        }
      }
    }
    synchronized (this) {
      // This thread goes on to send: the next slot may need another one waiting for it.
      spawnIfUseful();
    }
    return true;
  }

  /** Waits until the connection rate lets one more session open; false when interrupted. */
  boolean awaitSessionSlot() {
    long wait = slotWait(false);
    if (wait > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /**
   * The wait for the next message (or new session) under the rate in force: this node's throttle,
   * or the cluster's in Redis when the rule is shared, or this node's share of it while Redis does
   * not answer.
   */
  private long slotWait(boolean messages) {
    Throttle local;
    Rate rate;
    boolean sharedRule;
    synchronized (this) {
      local = messages ? messageThrottle : connectionThrottle;
      rate = messages ? shaping.maxMessageRate() : shaping.maxConnectionRate();
      sharedRule = shaping.shared();
    }
    if (local == null || rate == null) {
      return 0;
    }
    SharedLimits cluster = sharedRule ? environment.sharedLimits() : null;
    return cluster == null
        ? local.reserve(System.nanoTime())
        : shared.reserve(cluster, messages, rate);
  }

  /**
   * Under a shared connection limit, waits for one of the cluster's leases; {@link
   * SharedShaping#NO_LEASE} when the limit is this node's alone, null when the queue closes or the
   * thread is interrupted meanwhile. {@code waiting} runs when it starts to wait for a lease.
   */
  SharedLimits.Lease awaitConnectionLease(Runnable waiting) {
    return shared.awaitLease(
        () -> {
          synchronized (this) {
            return closed ? null : shaping;
          }
        },
        environment::sharedLimits,
        waiting);
  }

  void sessionOpened() {
    sessions.incrementAndGet();
  }

  /** A thread starts opening a session: it shows from now on. */
  SessionState sessionStarting() {
    SessionState state = new SessionState(Clock.systemUTC());
    live.add(state);
    return state;
  }

  void sessionEnded(SessionState state) {
    live.remove(state);
  }

  /** Ends the session with this id now; false when there is none. */
  boolean abort(String sessionId) {
    for (SessionState state : live) {
      if (state.id().equals(sessionId)) {
        state.abort();
        synchronized (this) {
          // An idle thread holding it wakes up to close it.
          notifyAll();
        }
        return true;
      }
    }
    return false;
  }

  /** The queue with its limits and sessions, for inspect-ready-q. */
  ReadyQueueDetails details() {
    ReadyQueueStatus status = status();
    ShapingSettings limits;
    Instant limitedSince;
    String pool;
    synchronized (this) {
      limits = shaping;
      limitedSince = connectionLimitedSince;
      pool = egressPool;
    }
    return new ReadyQueueDetails(
        status,
        pool == null ? "unspecified" : pool,
        limits,
        live.stream()
            .map(SessionState::view)
            .sorted(Comparator.comparing(ReadyQueueSession::startedAt))
            .toList(),
        limitedSince);
  }

  void sessionClosed() {
    sessions.decrementAndGet();
  }

  /** Takes out the waiting deliveries whose batches match, for an admin action. */
  synchronized List<Delivery> takeIf(Predicate<Batch> filter) {
    List<Delivery> taken = new ArrayList<>();
    ready.removeIf(
        delivery -> {
          if (filter.test(delivery.batch())) {
            taken.add(delivery);
            return true;
          }
          return false;
        });
    return taken;
  }

  /** Shows every delivery to {@code visitor}: waiting ones as "ready", others as "in delivery". */
  void forEach(BiConsumer<Delivery, String> visitor) {
    List<Delivery> waiting;
    synchronized (this) {
      waiting = List.copyOf(ready);
    }
    waiting.forEach(d -> visitor.accept(d, "ready"));
    active.forEach(d -> visitor.accept(d, "in delivery"));
  }

  /** The queue summary's line for this ready queue. */
  ReadyQueueStatus status() {
    boolean suspended = environment.isSuspended(key);
    int waiting;
    String pool;
    synchronized (this) {
      waiting = ready.size() + throttled;
      pool = egressPool == null ? EgressSource.UNSPECIFIED.name() : egressPool;
    }
    return new ReadyQueueStatus(
        key.name(),
        key.protocol(),
        key.site(),
        key.source(),
        waiting,
        sessions.get(),
        suspended,
        pool);
  }

  /** Messages waiting now, not those in delivery. */
  synchronized int waiting() {
    return ready.size();
  }

  /**
   * Stops taking mail and stops the threads; returns what waited, for its scheduled queue.
   * Deliveries under way finish (or fail) by themselves.
   */
  List<Delivery> close() {
    List<Delivery> abandoned;
    List<Thread> running;
    synchronized (this) {
      closed = true;
      abandoned = new ArrayList<>(ready);
      ready.clear();
      running = new ArrayList<>(workers);
      notifyAll();
    }
    running.forEach(Thread::interrupt);
    return abandoned;
  }

  /** For shutdown: waits a little for the threads to end. */
  void awaitStop(long millis) throws InterruptedException {
    List<Thread> running;
    synchronized (this) {
      running = new ArrayList<>(workers);
    }
    long deadline = System.currentTimeMillis() + millis;
    for (Thread thread : running) {
      thread.join(Math.max(1, deadline - System.currentTimeMillis()));
    }
  }
}
