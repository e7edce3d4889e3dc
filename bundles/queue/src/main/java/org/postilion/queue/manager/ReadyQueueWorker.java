package org.postilion.queue.manager;

import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread of a ready queue: holds at most one session, takes the queue's next message, delivers
 * it and books the outcome before taking another. A session is opened when one is needed and kept
 * for the next message, within the queue's limits.
 */
final class ReadyQueueWorker implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(ReadyQueueWorker.class);

  private final ReadyQueue queue;
  private final Courier courier;
  private DeliverySession session;
  private SessionState state;
  private SharedLimits.Lease lease;
  private int carried;

  ReadyQueueWorker(ReadyQueue queue, Courier courier) {
    this.queue = queue;
    this.courier = courier;
  }

  @Override
  public void run() {
    try {
      ReadyQueue.Step step;
      while (true) {
        if (state != null) {
          state.phase("Idle");
        }
        step = queue.next(session == null ? null : state, lease);
        if (step == null) {
          break;
        }
        if (step.closeIdle()) {
          drop();
          continue;
        }
        Delivery delivery = step.delivery();
        try {
          handle(delivery);
        } catch (RuntimeException e) {
          // The protocol or the spool broke: log it, the outcome was booked or will be retried.
          LOG.error("Delivery over {} failed", queue.key().name(), e);
          drop();
        } finally {
          queue.finished(delivery);
        }
      }
    } finally {
      drop();
      queue.threadEnded();
    }
  }

  private void handle(Delivery delivery) {
    if (session != null
        && (!session.isUsable()
            || state.aborted()
            || carried >= queue.shaping().maxDeliveriesPerConnection()
            || !lease.held())) {
      drop();
    }
    Courier.Attempt attempt = courier.prepare(delivery);
    if (attempt == null) {
      return;
    }
    // The session first, the message's slot then: a thread that waited for a connection (a
    // lease, a connection slot) does not spend a slot taken long before.
    boolean reused = session != null;
    if (!reused && !open(attempt)) {
      return;
    }
    state.phase("MessageRateThrottled");
    if (!queue.awaitMessageSlot()) {
      courier.giveBack(attempt.delivery());
      return;
    }
    deliver(attempt, reused);
  }

  /** Over the kept session, or a fresh one; a kept one the site had dropped gets one more try. */
  private void deliver(Courier.Attempt attempt, boolean kept) {
    boolean reused = kept;
    for (int tries = 0; tries < 2; tries++) {
      if (session == null && !open(attempt)) {
        return;
      }
      SessionState carrier = state;
      Courier.Attempt inSession = attempt.inSession(carrier.id());
      carrier.phase("DeliveringMessage");
      DeliveryResult result;
      long started = System.nanoTime();
      try {
        result = session.deliver(attempt.request());
        queue.environment().deliveryTook(queue.key(), System.nanoTime() - started);
      } catch (DeliveryException e) {
        drop();
        if (reused && e.beforeTransaction() && tries == 0 && !carrier.aborted()) {
          reused = false;
          continue;
        }
        DeliveryResult failed = Outcomes.forAll(attempt.request(), e.response(), null);
        carrier.carried(failed);
        courier.book(inSession, failed, null);
        return;
      } catch (RuntimeException e) {
        drop();
        carrier.transientFailure();
        courier.book(inSession, null, e);
        return;
      }
      carried++;
      carrier.carried(result);
      if (!session.isUsable()) {
        drop();
      }
      courier.book(inSession, result, null);
      return;
    }
  }

  /** Opens a session for the attempt; false when that failed, with the outcome booked. */
  private boolean open(Courier.Attempt attempt) {
    SessionState opening = queue.sessionStarting();
    boolean opened = false;
    try {
      opened = open(attempt, opening);
      return opened;
    } finally {
      if (!opened) {
        // Whatever ended the attempt (an Error from a bundle going away too), it shows no more.
        queue.sessionEnded(opening);
      }
    }
  }

  private boolean open(Courier.Attempt attempt, SessionState opening) {
    // The lease first: threads that waited for one then keep to the connection rate.
    SharedLimits.Lease held = queue.awaitConnectionLease(() -> opening.phase("ConnectionLimited"));
    if (held == null) {
      courier.giveBack(attempt.delivery());
      return false;
    }
    opening.phase("ConnectionRateThrottled");
    if (!queue.awaitSessionSlot()) {
      held.close();
      courier.giveBack(attempt.delivery());
      return false;
    }
    opening.phase("AttemptingConnection");
    Delivery delivery = attempt.delivery();
    DeliverySession opened = null;
    try {
      opened = queue.protocol().open(delivery.site(), delivery.source());
    } catch (DeliveryException e) {
      courier.book(attempt, Outcomes.forAll(attempt.request(), e.response(), null), null);
      return false;
    } catch (RuntimeException e) {
      courier.book(attempt, null, e);
      return false;
    } finally {
      if (opened == null) {
        held.close();
      }
    }
    if (opened == null) {
      courier.book(attempt, null, new IllegalStateException("the protocol opened no session"));
      return false;
    }
    session = opened;
    lease = held;
    state = opening;
    state.opened(opened);
    carried = 0;
    queue.sessionOpened();
    queue.environment().connectionOpened(queue.key());
    return true;
  }

  private void drop() {
    if (session == null) {
      return;
    }
    DeliverySession closing = session;
    SessionState ending = state;
    SharedLimits.Lease ended = lease;
    session = null;
    state = null;
    lease = null;
    ending.phase("Closing");
    queue.sessionClosed();
    queue.sessionEnded(ending);
    try {
      closing.close();
    } catch (RuntimeException e) {
      LOG.warn("Closing a session of {} failed: {}", queue.key().name(), e.toString());
    } finally {
      // Given back once the site has seen the session end, so the cluster never counts one more.
      ended.close();
    }
  }
}
