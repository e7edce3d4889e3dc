package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.postilion.api.admin.ReadyQueueSession;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;

/**
 * One session of a ready queue as operators see it (KumoMTA's dispatcher): written by the thread
 * that holds it, read by inspection, aborted by an operator.
 */
final class SessionState {
  private final String id = UUID.randomUUID().toString();
  private final Clock clock;
  private final Instant startedAt;
  private final AtomicInteger delivered = new AtomicInteger();
  private final AtomicInteger transfailed = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private volatile String phase = "AttemptingConnection";
  private volatile Instant phaseSince;
  private volatile DeliverySession session;
  private volatile boolean aborted;

  SessionState(Clock clock) {
    this.clock = clock;
    this.startedAt = Instant.now(clock);
    this.phaseSince = startedAt;
  }

  /** KumoMTA's session_id: shared by the records of the messages this session carries. */
  String id() {
    return id;
  }

  void phase(String name) {
    if (!name.equals(phase)) {
      phase = name;
      phaseSince = Instant.now(clock);
    }
  }

  void opened(DeliverySession opened) {
    session = opened;
    if (aborted) {
      opened.abort();
    }
  }

  /** Counts a message carried: delivered to all, failed for some, or retried. */
  void carried(DeliveryResult result) {
    boolean permanent = false;
    boolean transient_ = false;
    for (RecipientResult recipient : result.recipients()) {
      permanent |= recipient.disposition() == Disposition.PERMANENT_FAILURE;
      transient_ |= recipient.disposition() == Disposition.TRANSIENT_FAILURE;
    }
    (permanent ? failed : transient_ ? transfailed : delivered).incrementAndGet();
  }

  void transientFailure() {
    transfailed.incrementAndGet();
  }

  /** From another thread: closes the connection now; the holding thread drops the session. */
  void abort() {
    aborted = true;
    DeliverySession current = session;
    if (current != null) {
      current.abort();
    }
  }

  boolean aborted() {
    return aborted;
  }

  ReadyQueueSession view() {
    return new ReadyQueueSession(
        id, startedAt, phase, phaseSince, delivered.get(), transfailed.get(), failed.get());
  }
}
