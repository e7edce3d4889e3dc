package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.message.Addresses;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.Throttle;
import org.postilion.api.shaping.TrafficShaping;
import org.postilion.queue.egress.EgressRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves due mail from its scheduled queue towards the ready queue of its site. One thread takes
 * each due batch and decides at once, from memory, what becomes of it: it expires, an operator's
 * bounce ends it, a suspension holds it, a missing protocol, pool or queue file parks it, the
 * queue's own rate gives it a later slot, or its protocol is asked where it goes. The answer comes
 * back on another thread, which puts the batch in its ready queue, or back in its scheduled queue
 * for a few seconds when that ready queue is full. Nothing here waits for a site, a disk or DNS.
 */
final class Dispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  /** How long a batch waits after finding its ready queue full, at least; a random as much more. */
  static final Duration READY_FULL_DELAY = Duration.ofSeconds(5);

  private final Scheduler scheduler;
  private final QueueConfigs configs;
  private final AdminActions actions;
  private final Parking parking;
  private final EgressRegistry egress;
  private final Function<String, DeliveryProtocol> protocols;
  private final Supplier<TrafficShaping> shaping;
  private final ReadyQueues ready;
  private final Outcomes outcomes;
  private final InFlight inFlight;
  private final Executor routing;
  private final Clock clock;
  private final Duration resolveTimeout;
  private final Map<String, Throttle> queueThrottles = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile Instant settleUntil;

  Dispatcher(
      Scheduler scheduler,
      QueueConfigs configs,
      AdminActions actions,
      Parking parking,
      EgressRegistry egress,
      Function<String, DeliveryProtocol> protocols,
      Supplier<TrafficShaping> shaping,
      ReadyQueues ready,
      Outcomes outcomes,
      InFlight inFlight,
      Executor routing,
      Clock clock,
      Duration resolveTimeout) {
    this.scheduler = scheduler;
    this.configs = configs;
    this.actions = actions;
    this.parking = parking;
    this.egress = egress;
    this.protocols = protocols;
    this.shaping = shaping;
    this.ready = ready;
    this.outcomes = outcomes;
    this.inFlight = inFlight;
    this.routing = routing;
    this.clock = clock;
    this.resolveTimeout = resolveTimeout;
    this.thread = new Thread(this::run, "postilion-dispatcher");
  }

  void start() {
    thread.start();
  }

  void stop() throws InterruptedException {
    thread.interrupt();
    thread.join(TimeUnit.SECONDS.toMillis(10));
  }

  /** Holds all dispatch until {@code until}: a configuration went away, others may follow. */
  void settle(Instant until) {
    settleUntil = until;
  }

  private void run() {
    try {
      while (true) {
        Batch batch = scheduler.takeDue();
        if (batch == null) {
          return;
        }
        try {
          dispatch(batch);
        } catch (RuntimeException e) {
          LOG.error("Dispatching {} failed; it stays queued", batch, e);
          inFlight.end(batch);
          scheduler.add(batch.dueAt(Instant.now(clock).plusSeconds(60)));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Decides what becomes of a due batch; never waits. */
  void dispatch(Batch batch) {
    Instant now = Instant.now(clock);
    Instant settle = settleUntil;
    if (settle != null && now.isBefore(settle)) {
      scheduler.add(batch.dueAt(settle));
      return;
    }
    QueueName queue = QueueName.parse(batch.queue());
    String rejectedFile = configs.rejectedFile(queue);
    if (rejectedFile != null) {
      park("config:" + rejectedFile, batch);
      return;
    }
    CompletableFuture<QueueConfig> lookup = configs.lookup(queue);
    if (!lookup.isDone()) {
      // A policy route still decides: the batch waits for its answer, nothing else does.
      String reason = "policy:" + queue;
      parking.park(reason, batch);
      lookup.whenComplete((config, e) -> parking.release(reason::equals).forEach(scheduler::add));
      return;
    }
    dispatch(batch, queue, lookup.join(), now);
  }

  private void dispatch(Batch batch, QueueName queue, QueueConfig config, Instant now) {
    if (!now.isBefore(batch.created().plus(config.maxAge()))) {
      outcomes.expire(batch, config);
      return;
    }
    AdminAction bounce = actions.actionFor(AdminAction.Kind.BOUNCE, queue);
    if (bounce != null) {
      outcomes.adminBounce(batch, bounce);
      return;
    }
    AdminAction suspension = actions.actionFor(AdminAction.Kind.SUSPEND, queue);
    if (suspension != null) {
      Batch held = batch.delayed(Batch.Delay.SUSPENDED);
      if (!parking.hold(suspension.id(), held, () -> actions.isInForce(suspension))) {
        // Resumed between the look-up and now: it goes on as if never held.
        scheduler.add(batch);
      } else if (!batch.delayedFor(Batch.Delay.SUSPENDED)) {
        outcomes.delayed(
            batch,
            Response.of(
                451,
                "4.4.4",
                "scheduled queue is suspended: "
                    + (suspension.reason() == null ? "no reason given" : suspension.reason())));
      }
      return;
    }
    DeliveryProtocol protocol = protocols.apply(config.protocol());
    if (protocol == null) {
      park("protocol:" + config.protocol(), batch);
      return;
    }
    Optional<EgressSource> source = egress.choose(config.egressPool(), ThreadLocalRandom.current());
    if (source.isEmpty()) {
      park("pool:" + config.egressPool(), batch);
      return;
    }
    if (config.maxMessageRate() != null && !batch.slotReserved()) {
      Throttle throttle =
          queueThrottles.computeIfAbsent(batch.queue(), q -> new Throttle(config.maxMessageRate()));
      if (!throttle.rate().equals(config.maxMessageRate())) {
        throttle.setRate(config.maxMessageRate());
      }
      long waitNanos = throttle.reserve(System.nanoTime());
      if (waitNanos > 0) {
        Response throttled =
            Response.of(
                451,
                "4.4.4",
                batch.queue() + " throttled message rate (" + config.maxMessageRate() + ")");
        scheduler.add(
            delay(batch, Batch.Delay.MESSAGE_RATE, throttled).withSlotAt(now.plusNanos(waitNanos)));
        return;
      }
    }
    inFlight.start(batch);
    String domain = Addresses.domainOf(batch.recipients().get(0));
    CompletableFuture<Site> site;
    try {
      site = protocol.resolve(config, domain, source.get()).toCompletableFuture();
    } catch (RuntimeException e) {
      site = CompletableFuture.failedFuture(e);
    }
    site.orTimeout(resolveTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (resolved, failure) ->
                routing.execute(
                    () -> routed(batch, queue, config, source.get(), protocol, resolved, failure)));
  }

  /** The protocol said where the batch goes (or why it cannot go): into that ready queue. */
  private void routed(
      Batch batch,
      QueueName queue,
      QueueConfig config,
      EgressSource source,
      DeliveryProtocol protocol,
      Site site,
      Throwable failure) {
    if (failure != null || site == null) {
      notRouted(batch, config, failure);
      return;
    }
    AdminAction bounce = actions.actionFor(AdminAction.Kind.BOUNCE, queue);
    if (bounce != null) {
      // Bounced while its site was looked up: it goes no further.
      outcomes.adminBounce(batch, bounce);
      return;
    }
    ShapingSettings limits;
    try {
      TrafficShaping rules = shaping.get();
      ShapingSettings found =
          rules == null
              ? null
              : rules.forDestination(Addresses.domainOf(batch.recipients().get(0)), site.name());
      limits = found == null ? ShapingSettings.DEFAULTS : found;
    } catch (RuntimeException e) {
      // Sending without knowing the limits could break a receiver's: the mail waits instead.
      LOG.warn("Traffic shaping failed for {} at {}", batch.queue(), site.name(), e);
      notRouted(
          batch,
          config,
          new DeliveryException(
              Response.of(451, "4.3.5", "traffic shaping failed: " + e.getMessage())));
      return;
    }
    Delivery delivery =
        new Delivery(batch, queue, config, source, site, limits, Instant.now(clock));
    switch (ready.offer(delivery, protocol)) {
      case FULL -> {
        inFlight.end(batch);
        long jitter = ThreadLocalRandom.current().nextLong(READY_FULL_DELAY.toMillis());
        Response full =
            Response.of(
                451,
                "4.4.5",
                "ready queue "
                    + delivery.key().name()
                    + " is full (max_ready "
                    + limits.maxReady()
                    + "): back in the scheduled queue");
        scheduler.add(
            delay(batch, Batch.Delay.READY_FULL, full)
                .dueAt(Instant.now(clock).plus(READY_FULL_DELAY).plusMillis(jitter)));
      }
      case PROTOCOL_GONE -> {
        // Dispatched again, it waits for the protocol to come back.
        inFlight.end(batch);
        scheduler.add(batch);
      }
      default -> {}
    }
  }

  /** The protocol could not say where the mail goes: an attempt that failed as it says. */
  private void notRouted(Batch batch, QueueConfig config, Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    Response response;
    if (cause instanceof DeliveryException e) {
      response = e.response();
    } else if (cause instanceof TimeoutException) {
      response =
          Response.of(
              451, "4.4.3", "no answer within " + resolveTimeout + " on where the mail goes");
    } else {
      LOG.warn("Protocol {} failed to route {}", config.protocol(), batch, cause);
      response =
          Response.of(
              451,
              "4.4.3",
              "protocol " + config.protocol() + " cannot tell where the mail goes: " + cause);
    }
    Disposition disposition =
        response.isPermanentFailure()
            ? Disposition.PERMANENT_FAILURE
            : Disposition.TRANSIENT_FAILURE;
    DeliveryResult result =
        new DeliveryResult(
            batch.recipients().stream()
                .map(r -> new org.postilion.api.delivery.RecipientResult(r, disposition, response))
                .toList(),
            null);
    outcomes.attempted(
        batch, null, config, batch.attempts() + 1, Records.Path.NOWHERE, result, null);
  }

  /** Marks the batch as waiting for {@code why}; the first time, its Delayed records say so. */
  private Batch delay(Batch batch, Batch.Delay why, Response response) {
    if (!batch.delayedFor(why)) {
      outcomes.delayed(batch, response);
    }
    return batch.delayed(why);
  }

  private void park(String reason, Batch waiting) {
    Batch batch = delay(waiting, Batch.Delay.WAITING, Response.of(451, "4.3.5", waitsFor(reason)));
    parking.park(reason, batch);
    if (waitingOver(reason, batch)) {
      // What it waits for came between the look-up and the parking.
      parking.release(reason::equals).forEach(scheduler::add);
    } else if (warned.add(reason)) {
      if (reason.startsWith("config:")) {
        LOG.warn(
            "Queue {} waits: its configuration {} was rejected; fix the file",
            batch.queue(),
            reason.substring("config:".length()));
      } else {
        LOG.warn(
            "Queue {} waits: {} is not installed; any other queue that needs it waits too",
            batch.queue(),
            reason.replace(':', ' '));
      }
    }
  }

  private final java.util.Set<String> warned = ConcurrentHashMap.newKeySet();

  /** What a parked batch waits for, in words. */
  private static String waitsFor(String reason) {
    int colon = reason.indexOf(':');
    String kind = colon < 0 ? reason : reason.substring(0, colon);
    String what = colon < 0 ? "" : reason.substring(colon + 1);
    return switch (kind) {
      case "protocol" -> "waits for delivery protocol " + what + ", which is not installed";
      case "pool" -> "waits for a source of egress pool " + what;
      case "config" -> "waits for a valid queue configuration: " + what + " was rejected";
      default -> "waits: " + reason;
    };
  }

  private boolean waitingOver(String reason, Batch batch) {
    if (reason.startsWith("protocol:")) {
      return protocols.apply(reason.substring("protocol:".length())) != null;
    }
    if (reason.startsWith("pool:")) {
      return egress.hasPool(reason.substring("pool:".length()));
    }
    return configs.rejectedFile(QueueName.parse(batch.queue())) == null;
  }

  /** Parked mail goes back to its schedule when what it waits for may have come. */
  void releaseParked(java.util.function.Predicate<String> reasons, Instant due) {
    warned.removeIf(reasons);
    var released = parking.release(reasons);
    if (!released.isEmpty()) {
      LOG.info("Releasing {} messages that waited for a protocol, pool or file", released.size());
    }
    for (Batch batch : released) {
      scheduler.add(due == null ? batch : batch.dueAt(due));
    }
  }
}
