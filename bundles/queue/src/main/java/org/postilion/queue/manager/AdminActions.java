package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.Selector;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.queue.QueueName;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's suspensions and bounces in force: kept in the spool so they outlive a restart,
 * ended when they expire. Looking one up is a walk over a short list in memory, cheap enough for
 * every dispatch and every ready queue's wake-up.
 */
final class AdminActions {
  private static final Logger LOG = LoggerFactory.getLogger(AdminActions.class);

  private final Spool spool;
  private final Clock clock;
  private final List<AdminAction> actions = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService timer;

  /** Recipients each bounce ended, by scheduled queue; since this start of the server. */
  private final Map<String, Map<String, LongAdder>> bounced = new ConcurrentHashMap<>();

  /** Told when an action ends: a suspension's held mail goes back to its schedule. */
  private final Consumer<AdminAction> ended;

  AdminActions(Spool spool, Clock clock, Consumer<AdminAction> ended) {
    this.spool = spool;
    this.clock = clock;
    this.ended = ended;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("postilion-admin-timer"));
  }

  /** Reads back the actions of before a restart, dropping expired ones. */
  void load() {
    Instant now = Instant.now(clock);
    for (AdminAction action : spool.adminActions()) {
      if (action.isExpired(now)) {
        spool.deleteAdminAction(action.id());
        continue;
      }
      actions.add(action);
      scheduleExpiry(action);
    }
    if (!actions.isEmpty()) {
      LOG.info("{} suspensions and bounces in force from before the restart", actions.size());
    }
  }

  void close() {
    timer.shutdownNow();
  }

  /** Counts recipients of {@code queue} that the bounce with this id ended. */
  void countBounced(String id, String queue, int recipients) {
    bounced
        .computeIfAbsent(id, i -> new ConcurrentHashMap<>())
        .computeIfAbsent(queue, q -> new LongAdder())
        .add(recipients);
  }

  /** Recipients the bounce with this id ended so far, by scheduled queue. */
  Map<String, Long> bouncedBy(String id) {
    Map<String, Long> counts = new TreeMap<>();
    bounced.getOrDefault(id, Map.of()).forEach((queue, n) -> counts.put(queue, n.sum()));
    return counts;
  }

  AdminAction add(
      AdminAction.Kind kind, Selector selector, String site, Duration duration, String reason) {
    if (duration != null && (duration.isNegative() || duration.isZero())) {
      throw new IllegalArgumentException("the duration must be positive, not " + duration);
    }
    Instant now = Instant.now(clock);
    AdminAction action =
        new AdminAction(
            UUID.randomUUID().toString(),
            kind,
            selector,
            site == null ? null : site.trim().toLowerCase(Locale.ROOT),
            reason == null || reason.isBlank() ? null : reason.trim(),
            now,
            duration == null ? null : now.plus(duration));
    spool.saveAdminAction(action);
    actions.add(action);
    scheduleExpiry(action);
    LOG.info(
        "{} {} {}{}",
        kind,
        action.id(),
        action.target(),
        action.expires() == null ? "" : " until " + action.expires());
    return action;
  }

  private void scheduleExpiry(AdminAction action) {
    if (action.expires() == null) {
      return;
    }
    long delay = Math.max(0, action.expires().toEpochMilli() - clock.millis());
    timer.schedule(() -> end(action, "expired"), delay, TimeUnit.MILLISECONDS);
  }

  /** Takes an action out of force; false when it was not in force. */
  boolean end(AdminAction action, String how) {
    if (!actions.remove(action)) {
      return false;
    }
    bounced.remove(action.id());
    try {
      spool.deleteAdminAction(action.id());
    } catch (SpoolException e) {
      LOG.error("Could not delete {} {} from the spool", action.kind(), action.id(), e);
    }
    LOG.info("{} {} {} {}", action.kind(), action.id(), action.target(), how);
    ended.accept(action);
    return true;
  }

  boolean isInForce(AdminAction action) {
    return actions.contains(action);
  }

  /** The first action of this kind in force for the queue, or null. */
  AdminAction actionFor(AdminAction.Kind kind, QueueName queue) {
    Instant now = Instant.now(clock);
    for (AdminAction action : actions) {
      if (action.kind() == kind
          && action.selector() != null
          && !action.isExpired(now)
          && action.selector().matches(queue)) {
        return action;
      }
    }
    return null;
  }

  boolean isReadySuspended(String site) {
    Instant now = Instant.now(clock);
    for (AdminAction action : actions) {
      if (action.kind() == AdminAction.Kind.SUSPEND_READY
          && !action.isExpired(now)
          && action.site().equalsIgnoreCase(site)) {
        return true;
      }
    }
    return false;
  }

  /** The actions of this kind in force, or of every kind but bounces for {@code null}. */
  List<AdminAction> inForce(AdminAction.Kind kind) {
    Instant now = Instant.now(clock);
    return actions.stream()
        .filter(a -> !a.isExpired(now))
        .filter(a -> kind == null ? a.kind() != AdminAction.Kind.BOUNCE : a.kind() == kind)
        .toList();
  }
}
