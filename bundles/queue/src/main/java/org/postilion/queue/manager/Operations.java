package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.Selector;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventType;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's actions on queued mail: suspend and resume, bounce, retry now, rebind, and what an
 * xfer does with the queues (take, give back, book). Each returns once the action is in the spool;
 * the mail it concerns is taken from wherever it waits (its scheduled queue, a parking lot, a ready
 * queue) without waiting for any site.
 */
final class Operations implements Transfers.Environment {
  private static final Logger LOG = LoggerFactory.getLogger(Operations.class);

  /** KumoMTA's default: an admin bounce also catches mail arriving in the next five minutes. */
  static final Duration DEFAULT_BOUNCE_DURATION = Duration.ofMinutes(5);

  private final AdminActions actions;
  private final Scheduler scheduler;
  private final Parking parking;
  private final ReadyQueues ready;
  private final InFlight inFlight;
  private final Outcomes outcomes;
  private final QueueConfigs configs;
  private final Records records;
  private final Spool spool;
  private final Clock clock;

  Operations(
      AdminActions actions,
      Scheduler scheduler,
      Parking parking,
      ReadyQueues ready,
      InFlight inFlight,
      Outcomes outcomes,
      QueueConfigs configs,
      Records records,
      Spool spool,
      Clock clock) {
    this.actions = actions;
    this.scheduler = scheduler;
    this.parking = parking;
    this.ready = ready;
    this.inFlight = inFlight;
    this.outcomes = outcomes;
    this.configs = configs;
    this.records = records;
    this.spool = spool;
    this.clock = clock;
  }

  AdminAction suspend(Selector selector, Duration duration, String reason) {
    return actions.add(AdminAction.Kind.SUSPEND, selector, null, duration, reason);
  }

  AdminAction suspendReady(String site, Duration duration, String reason) {
    if (site == null || site.isBlank()) {
      throw new IllegalArgumentException("name the site to suspend");
    }
    return actions.add(AdminAction.Kind.SUSPEND_READY, null, site, duration, reason);
  }

  /** A suspension ended: what it held goes back to its schedule. */
  void ended(AdminAction action) {
    List<org.postilion.queue.manager.Batch> released = parking.releaseHeld(action.id());
    released.forEach(scheduler::add);
    if (!released.isEmpty()) {
      LOG.info("{} messages released by the end of {}", released.size(), action.id());
    }
  }

  List<AdminAction> resume(String id, Selector selector) {
    if ((id == null || id.isBlank()) && selector == null) {
      throw new IllegalArgumentException(
          "name a suspension id, or a domain, tenant, campaign or queue");
    }
    List<AdminAction> ended = new ArrayList<>();
    for (AdminAction action : actions.inForce((AdminAction.Kind) null)) {
      boolean byId = id != null && action.id().equals(id.trim());
      boolean bySelector = selector != null && selector.equals(action.selector());
      if ((byId || bySelector) && actions.end(action, "resumed")) {
        ended.add(action);
      }
    }
    return ended;
  }

  QueueAdmin.BounceOutcome bounce(Selector selector, Duration duration, String reason) {
    AdminAction bounce =
        actions.add(
            AdminAction.Kind.BOUNCE,
            selector,
            null,
            duration == null ? DEFAULT_BOUNCE_DURATION : duration,
            reason);
    List<Batch> matching = takeWaiting(selector, true);
    int recipients = 0;
    for (Batch batch : matching) {
      recipients += batch.size();
      outcomes.adminBounce(batch, bounce);
    }
    LOG.info("Admin bounce {} ends {} queued recipients", bounce.id(), recipients);
    return new QueueAdmin.BounceOutcome(bounce, recipients);
  }

  boolean cancelBounce(String id) {
    for (AdminAction action : actions.inForce(AdminAction.Kind.BOUNCE)) {
      if (action.id().equals(id.trim())) {
        return actions.end(action, "cancelled");
      }
    }
    return false;
  }

  int retryNow(Selector selector) {
    Instant now = Instant.now(clock);
    List<Batch> matching = scheduler.removeIf(b -> matches(selector, b));
    int recipients = 0;
    for (Batch batch : matching) {
      recipients += batch.size();
      scheduler.add(batch.dueAt(now));
    }
    LOG.info("Retry now: {} recipients matching {}", recipients, selector);
    return recipients;
  }

  int rebind(Selector selector, String reason) {
    Instant now = Instant.now(clock);
    configs.invalidate();
    List<Batch> matching = takeWaiting(selector, false);
    Response response =
        Response.of(
            250, "2.0.0", "rebound" + (reason == null || reason.isBlank() ? "" : ": " + reason));
    int recipients = 0;
    for (Batch batch : matching) {
      recipients += batch.size();
      try {
        spool
            .message(batch.messageId())
            .ifPresent(
                message -> {
                  QueueConfig config = configs.now(QueueName.parse(batch.queue()));
                  for (QueueEntry entry : batch.entries()) {
                    records.publish(
                        records.ended(EventType.ADMIN_REBIND, message, entry, response, config));
                  }
                });
      } finally {
        scheduler.add(batch.dueAt(now));
      }
    }
    LOG.info("Rebind: {} recipients matching {}", recipients, selector);
    return recipients;
  }

  // --- what an xfer does here: take mail from its queues, give it back, or end it ---

  @Override
  public List<Batch> take(Selector selector) {
    return takeWaiting(selector, true);
  }

  @Override
  public void giveBack(Batch batch) {
    scheduler.add(batch);
  }

  @Override
  public void transferred(Batch batch, String response) {
    // Booked before the next transfer: a crash here sends again at most those in flight.
    try {
      outcomes.xferOut(batch, response).get(2, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("The transfer of {} was not booked yet: {}", batch.messageId(), e.toString());
    }
  }

  @Override
  public void rebound(Batch batch, MessageRecord message, String response) {
    Response rebound = Response.of(250, "2.0.0", response);
    for (QueueEntry entry : batch.entries()) {
      records.publish(records.ended(EventType.ADMIN_REBIND, message, entry, rebound, null));
    }
  }

  /** Takes matching mail out of its schedule, the parking lots, the ready queues (and holds). */
  private List<Batch> takeWaiting(Selector selector, boolean includingHeld) {
    Predicate<Batch> filter = b -> matches(selector, b);
    List<Batch> taken = new ArrayList<>(scheduler.removeIf(filter));
    taken.addAll(parking.takeIf(filter, includingHeld));
    for (Delivery delivery : ready.takeIf(filter)) {
      inFlight.end(delivery.batch());
      taken.add(delivery.batch());
    }
    return taken;
  }

  private static boolean matches(Selector selector, Batch batch) {
    return selector.matches(QueueName.parse(batch.queue()));
  }
}
