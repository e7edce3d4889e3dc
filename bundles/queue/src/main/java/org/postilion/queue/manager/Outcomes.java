package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Books what became of mail: delivered and bounced recipients leave the spool, failed ones get
 * their next attempt, expired and administratively bounced ones end, each with its record. One
 * thread of its own does it for the whole server and takes what has piled up since its last commit
 * into one spool transaction (group commit), so the spool commits a few times per batch of
 * deliveries rather than once per recipient.
 */
final class Outcomes {
  private static final Logger LOG = LoggerFactory.getLogger(Outcomes.class);

  /** Outcomes booked in one transaction at most. */
  static final int GROUP = 512;

  /** How long mail waits after its outcome could not be written: the spool may be back by then. */
  private static final long SPOOL_TROUBLE_DELAY_SECONDS = 60;

  /** One outcome to book, completed once it is in the spool. */
  private record Item(
      Batch batch,
      MessageRecord message,
      QueueConfig config,
      int attempt,
      DeliveryResult result,
      EventType endedAs,
      Response endResponse,
      Records.Path path,
      CompletableFuture<Void> booked) {}

  private final Spool spool;
  private final Scheduler scheduler;
  private final Records records;
  private final QueueGauges gauges;
  private final InFlight inFlight;
  private final AdminActions actions;
  private final Clock clock;
  private final MessageCache cache;
  private final BlockingQueue<Item> pending = new ArrayBlockingQueue<>(4 * GROUP);
  private final AtomicLong delaysLeftOut = new AtomicLong();
  private final Thread thread;
  private volatile boolean stopping;
  private volatile boolean ended;

  Outcomes(
      Spool spool,
      Scheduler scheduler,
      Records records,
      QueueGauges gauges,
      InFlight inFlight,
      AdminActions actions,
      Clock clock,
      MessageCache cache) {
    this.cache = cache;
    this.spool = spool;
    this.scheduler = scheduler;
    this.records = records;
    this.gauges = gauges;
    this.inFlight = inFlight;
    this.actions = actions;
    this.clock = clock;
    this.thread = DaemonThreads.of("postilion-outcomes", this::run);
  }

  void start() {
    thread.start();
  }

  /** Books what is pending, then stops. */
  void close() throws InterruptedException {
    stopping = true;
    thread.interrupt();
    thread.join(10_000);
    if (!thread.isAlive()) {
      // Also when it never ran: nobody waits for a booking that cannot come.
      ended = true;
    }
  }

  /** The same response for every recipient of the request. */
  static DeliveryResult forAll(DeliveryRequest request, Response response, PeerAddress peer) {
    Disposition disposition =
        response.isPermanentFailure()
            ? Disposition.PERMANENT_FAILURE
            : response.isTransientFailure() ? Disposition.TRANSIENT_FAILURE : Disposition.DELIVERED;
    return DeliveryResult.forAll(request, disposition, response, peer);
  }

  /**
   * An attempt's result (or failure: a transient failure of every recipient). The future completes
   * once it is in the spool.
   */
  CompletableFuture<Void> attempted(
      Batch batch,
      MessageRecord message,
      QueueConfig config,
      int attempt,
      Records.Path path,
      DeliveryResult result,
      Throwable failure) {
    DeliveryResult outcome = result;
    if (outcome == null) {
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      LOG.debug("Delivery of {} through {} failed", batch, config.protocol(), cause);
      Response response =
          Response.of(451, "4.3.0", "protocol " + config.protocol() + " failed: " + cause);
      outcome =
          new DeliveryResult(
              batch.recipients().stream()
                  .map(r -> new RecipientResult(r, Disposition.TRANSIENT_FAILURE, response))
                  .toList(),
              null);
    }
    return submit(new Item(batch, message, config, attempt, outcome, null, null, path, null));
  }

  /** The batch expired: it leaves the spool with an Expiration record for each recipient. */
  void expire(Batch batch, QueueConfig config) {
    Response response =
        Response.of(551, "5.4.7", "message expired after " + config.maxAge() + " in the queue");
    submit(new Item(batch, null, config, 0, null, EventType.EXPIRATION, response, null, null));
  }

  /**
   * The batch went back to its scheduled queue without an attempt (KumoMTA's Delayed): a record for
   * each recipient saying why; nothing changes in the spool.
   */
  void delayed(Batch batch, Response response) {
    // Asked on the dispatcher's threads, which never wait: under a backlog the record is left out.
    Item item =
        new Item(
            batch,
            null,
            null,
            0,
            null,
            EventType.DELAYED,
            response,
            null,
            new CompletableFuture<>());
    if (!pending.offer(item) && delaysLeftOut.getAndIncrement() % 10_000 == 0) {
      LOG.warn(
          "Outcomes are backlogged: Delayed records left out ({} so far)", delaysLeftOut.get());
    }
  }

  /** An operator's bounce ends the batch with an AdminBounce record for each recipient. */
  void adminBounce(Batch batch, AdminAction bounce) {
    actions.countBounced(bounce.id(), batch.queue(), batch.size());
    String reason = bounce.reason() == null ? "no reason given" : bounce.reason();
    Response response = Response.of(551, "5.7.1", "administratively bounced: " + reason);
    submit(new Item(batch, null, null, 0, null, EventType.ADMIN_BOUNCE, response, null, null));
  }

  /** The target node of a transfer has the batch on disk: it ends here with XferOut records. */
  CompletableFuture<Void> xferOut(Batch batch, String text) {
    return submit(
        new Item(
            batch,
            null,
            null,
            0,
            null,
            EventType.XFER_OUT,
            Response.of(250, "2.0.0", text),
            null,
            null));
  }

  private CompletableFuture<Void> submit(Item item) {
    CompletableFuture<Void> booked = new CompletableFuture<>();
    Item withFuture =
        new Item(
            item.batch(),
            item.message(),
            item.config(),
            item.attempt(),
            item.result(),
            item.endedAs(),
            item.endResponse(),
            item.path(),
            booked);
    // A full queue makes the caller wait: the spool is the pace of the whole server. An interrupt
    // does not cut that wait short: it wakes a ready queue's thread from its own waits when the
    // queue closes, and what that thread delivered meanwhile must still be booked, or its mail
    // would stay in the spool with nobody to retry it until the next start.
    ThroughInterrupts.waitFor(
        () -> {
          if (pending.offer(withFuture, 100, TimeUnit.MILLISECONDS)) {
            if (ended && pending.remove(withFuture)) {
              // In after the booking thread's last look: read back from the spool at next start.
              booked.completeExceptionally(stopped());
            }
            return true;
          }
          if (ended) {
            booked.completeExceptionally(stopped());
            return true;
          }
          return false;
        });
    return booked;
  }

  /**
   * Waits until the booking is done, through interrupts as {@link #submit} does; gives up only once
   * the booking thread has ended without it.
   *
   * @throws ExecutionException when it was not booked
   */
  void await(CompletableFuture<Void> booking) throws ExecutionException {
    ThroughInterrupts.waitFor(
        () -> {
          try {
            booking.get(100, TimeUnit.MILLISECONDS);
            return true;
          } catch (TimeoutException e) {
            if (ended) {
              booking.completeExceptionally(stopped());
            }
            return false;
          }
        });
  }

  private static IllegalStateException stopped() {
    // Not booked: the mail is still in the spool and is read back at the next start.
    return new IllegalStateException("outcomes are stopped");
  }

  private void run() {
    try {
      bookUntilStopped();
    } finally {
      ended = true;
      // Whatever came in after the last look stays in the spool for the next start.
      List<Item> left = new ArrayList<>();
      pending.drainTo(left);
      left.forEach(item -> item.booked().completeExceptionally(stopped()));
    }
  }

  private void bookUntilStopped() {
    List<Item> group = new ArrayList<>(GROUP);
    while (true) {
      try {
        if (stopping && pending.isEmpty()) {
          return;
        }
        Item first = stopping ? pending.poll() : pending.take();
        if (first == null) {
          return;
        }
        group.add(first);
        pending.drainTo(group, GROUP - 1);
        book(group);
      } catch (InterruptedException e) {
        if (!stopping) {
          return;
        }
      } catch (RuntimeException e) {
        LOG.error("Booking {} outcomes failed", group.size(), e);
        group.forEach(item -> item.booked().completeExceptionally(e));
      } finally {
        group.clear();
      }
    }
  }

  /** What one group changes, gathered before one transaction writes it. */
  private final class Plan {
    final List<EntryKey> done = new ArrayList<>();
    final List<Spool.Retry> retries = new ArrayList<>();
    final List<QueueEntry> removed = new ArrayList<>();
    final List<EventRecord> records = new ArrayList<>();
    final List<Batch> rescheduled = new ArrayList<>();
    final List<Runnable> gaugeChanges = new ArrayList<>();
  }

  private void book(List<Item> group) {
    // Delayed records change nothing in the spool: written at once, and out of the group.
    group.removeIf(
        item -> {
          if (item.endedAs() != EventType.DELAYED) {
            return false;
          }
          recordDelay(item);
          item.booked().complete(null);
          return true;
        });
    if (group.isEmpty()) {
      return;
    }
    Plan plan = new Plan();
    for (Item item : group) {
      try {
        if (item.endedAs() != null) {
          planEnd(plan, item.batch(), item.endedAs(), item.endResponse(), item.config(), null);
        } else {
          planAttempt(plan, item);
        }
      } catch (SpoolException e) {
        LOG.error("Cannot read {} to book its outcome; it stays queued", item.batch(), e);
        plan.rescheduled.add(later(item.batch()));
      }
    }
    try {
      spool.update(plan.done, plan.retries);
    } catch (SpoolException e) {
      LOG.error("Cannot book {} outcomes; their mail stays queued", group.size(), e);
      for (Item item : group) {
        inFlight.end(item.batch());
        scheduler.add(later(item.batch()));
        item.booked().complete(null);
      }
      return;
    }
    plan.removed.forEach(gauges::removed);
    // Done with, or waiting for its next attempt: either way its bytes need not stay in memory.
    group.forEach(item -> cache.remove(item.batch().messageId()));
    plan.gaugeChanges.forEach(Runnable::run);
    for (Item item : group) {
      inFlight.end(item.batch());
    }
    plan.records.forEach(records::publish);
    plan.rescheduled.forEach(scheduler::add);
    group.forEach(item -> item.booked().complete(null));
  }

  private void recordDelay(Item item) {
    Batch batch = item.batch();
    MessageCache.Cached cached = cache.get(batch.messageId());
    MessageRecord message;
    try {
      message = cached != null ? cached.message() : spool.message(batch.messageId()).orElse(null);
    } catch (SpoolException e) {
      LOG.warn("Cannot read {} for its Delayed record: {}", batch, e.toString());
      return;
    }
    if (message != null) {
      for (QueueEntry entry : batch.entries()) {
        records.publish(records.ended(EventType.DELAYED, message, entry, item.endResponse(), null));
      }
    }
  }

  private Batch later(Batch batch) {
    return batch.dueAt(Instant.now(clock).plusSeconds(SPOOL_TROUBLE_DELAY_SECONDS));
  }

  private void planAttempt(Plan plan, Item item) {
    Batch batch = item.batch();
    QueueConfig config = item.config();
    MessageRecord message =
        item.message() != null ? item.message() : spool.message(batch.messageId()).orElse(null);
    if (message == null) {
      LOG.warn("Message {} is no longer in the spool; nothing to book", batch.messageId());
      batch.entries().forEach(plan.removed::add);
      return;
    }
    DeliveryResult result = item.result();
    List<EntryKey> failed = new ArrayList<>();
    Response lastTransient = null;
    for (QueueEntry entry : batch.entries()) {
      RecipientResult outcome = resultFor(result, entry, config);
      EventType type =
          switch (outcome.disposition()) {
            case DELIVERED -> EventType.DELIVERY;
            case PERMANENT_FAILURE -> EventType.BOUNCE;
            case TRANSIENT_FAILURE -> EventType.TRANSIENT_FAILURE;
          };
      plan.records.add(
          records.attempt(
              type,
              message,
              entry,
              outcome.response(),
              result,
              item.attempt(),
              config,
              item.path()));
      if (type == EventType.TRANSIENT_FAILURE) {
        failed.add(entry.key());
        lastTransient = outcome.response();
      } else {
        plan.done.add(entry.key());
        plan.removed.add(entry);
        if (type == EventType.BOUNCE) {
          LOG.info("{} to {} bounced: {}", message.id(), entry.recipient(), outcome.response());
        }
      }
    }
    if (failed.isEmpty()) {
      return;
    }
    Instant now = Instant.now(clock);
    Instant next = now.plus(config.retry().delayAfter(item.attempt(), ThreadLocalRandom.current()));
    Batch retry = batch.retry(failed, next, item.attempt());
    if (batch.attempts() == 0) {
      int count = failed.size();
      plan.gaugeChanges.add(() -> gauges.firstFailure(batch.queue(), count));
    }
    AdminAction bounce = actions.actionFor(AdminAction.Kind.BOUNCE, QueueName.parse(batch.queue()));
    if (bounce != null) {
      actions.countBounced(bounce.id(), batch.queue(), failed.size());
      String reason = bounce.reason() == null ? "no reason given" : bounce.reason();
      planEnd(
          plan,
          retry,
          EventType.ADMIN_BOUNCE,
          Response.of(551, "5.7.1", "administratively bounced: " + reason),
          null,
          message);
      return;
    }
    if (!next.isBefore(batch.created().plus(config.maxAge()))) {
      planEnd(
          plan,
          retry,
          EventType.EXPIRATION,
          Response.of(551, "5.4.7", "message expired after " + config.maxAge() + " in the queue"),
          config,
          message);
      return;
    }
    for (EntryKey key : failed) {
      plan.retries.add(new Spool.Retry(key, next, item.attempt(), lastTransient.toString()));
    }
    plan.rescheduled.add(retry);
  }

  /** The batch leaves the spool with a record of why for each recipient. */
  private void planEnd(
      Plan plan,
      Batch batch,
      EventType type,
      Response response,
      QueueConfig config,
      MessageRecord known) {
    MessageRecord message = known != null ? known : spool.message(batch.messageId()).orElse(null);
    for (QueueEntry entry : batch.entries()) {
      plan.done.add(entry.key());
      plan.removed.add(entry);
      if (message != null) {
        plan.records.add(records.ended(type, message, entry, response, config));
      }
    }
  }

  /** The result for one entry; a protocol that left a recipient out gets a transient failure. */
  private static RecipientResult resultFor(
      DeliveryResult result, QueueEntry entry, QueueConfig config) {
    for (RecipientResult candidate : result.recipients()) {
      if (candidate.recipient().equals(entry.recipient())) {
        return candidate;
      }
    }
    return new RecipientResult(
        entry.recipient(),
        Disposition.TRANSIENT_FAILURE,
        Response.of(451, "4.3.0", "protocol " + config.protocol() + " gave no result"));
  }
}
