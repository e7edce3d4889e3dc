package org.postilion.api.admin;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postilion.api.queue.QueueConfig;

/**
 * The operator's hands on the queues: what the {@code mta:*} shell commands and the admin HTTP API
 * call. Methods that take an action return once it is in the spool, so it survives a restart.
 *
 * <p>Bad arguments (an unknown id, an empty selector) raise {@link IllegalArgumentException} with a
 * message fit to show the operator.
 */
public interface QueueAdmin {

  QueueSummary summary();

  /**
   * Why reception refuses new mail now: {@code min_free_space} or {@code max_heap_used}; {@code
   * null} while it takes mail.
   */
  default String receptionPaused() {
    return null;
  }

  /** Recipients per scheduled queue name, without walking the queues: cheap enough per scrape. */
  Map<String, QueueCounts> counts();

  /** Queued recipients that match, oldest first; all queues when {@code selector} is null. */
  List<QueuedRecipient> list(Selector selector, int limit);

  Optional<MessageDetails> message(String messageId);

  /** The configuration in force for a scheduled queue now (its file, before any policy route). */
  QueueConfig queueConfig(String queueName);

  /**
   * Holds the matching scheduled queues' mail.
   *
   * @param duration how long; {@code null} until resumed
   */
  AdminAction suspend(Selector selector, Duration duration, String reason);

  /** Holds the ready queues of a destination site (as {@link ReadyQueueStatus#site()} names it). */
  AdminAction suspendReady(String site, Duration duration, String reason);

  /** The ready queues now, without walking the scheduled queues: cheap enough per scrape. */
  List<ReadyQueueStatus> readyQueues();

  /** A ready queue by its name ({@code source->site@protocol}), with its limits and sessions. */
  Optional<ReadyQueueDetails> readyQueue(String name);

  /**
   * Ends one session of a ready queue now (KumoMTA's abort-ready-q-conn): its connection is closed,
   * a delivery under way over it fails transiently and is retried.
   *
   * @return false when the ready queue has no session with this id
   */
  boolean abortSession(String readyQueue, String sessionId);

  /** Suspensions in force, of both kinds. */
  List<AdminAction> suspensions();

  /**
   * Ends the suspension with this id, or every suspension whose target equals {@code selector}.
   *
   * @return the suspensions ended
   */
  List<AdminAction> resume(String id, Selector selector);

  /**
   * Bounces the matching mail now, and mail that arrives for those queues while the bounce lasts.
   *
   * @param duration how long arriving mail is bounced too; {@code null} for KumoMTA's 5 minutes
   * @return the bounce in force and how many recipients it bounced at once
   */
  BounceOutcome bounce(Selector selector, Duration duration, String reason);

  List<AdminAction> bounces();

  /** Recipients the bounce with this id ended so far, by scheduled queue (since the start). */
  Map<String, Long> bounced(String bounceId);

  /** Ends a bounce early; true when there was one with this id. */
  boolean cancelBounce(String id);

  /** Makes the matching waiting mail due now; returns how many recipients. */
  int retryNow(Selector selector);

  /**
   * Applies the queue configuration in force now to the matching mail (protocol, routing, limits)
   * and makes it due now: what to do after moving a domain to another route.
   */
  int rebind(Selector selector, String reason);

  List<ProtocolStatus> protocols();

  /** For delivery protocols: whether a site's ready queues are suspended now. */
  boolean isReadySuspended(String site);

  /**
   * Moves the queued mail that matches to another node (KumoMTA's xfer), in the background: each
   * message leaves this spool (an XferOut record) only once the target has it on disk; one the
   * target refuses goes back to its queue here.
   *
   * @param target the other node's HTTP API, e.g. {@code https://node-b:8000}; credentials for its
   *     admin role as user info ({@code https://user:password@node-b:8000})
   * @throws IllegalArgumentException when the target is not an http(s) URL
   */
  XferStatus xfer(Selector selector, String target, String reason);

  /** The transfers of this run of the server, newest first. */
  List<XferStatus> xfers();

  /** Stops a transfer by its name; what it had not moved goes back to its queues. */
  Optional<XferStatus> cancelXfer(String name, String reason);

  record BounceOutcome(AdminAction bounce, int bounced) {}
}
