package org.postilion.api.admin;

import java.time.Instant;

/**
 * A suspension or an admin bounce in force. Both are kept in the spool, so they outlive restarts,
 * until they expire or are cancelled.
 *
 * @param selector the scheduled queues it applies to; {@code null} for a ready queue suspension
 * @param site the destination site of a ready queue suspension, else {@code null}
 * @param expires when it ends by itself; {@code null} for never (until cancelled)
 */
public record AdminAction(
    String id,
    Kind kind,
    Selector selector,
    String site,
    String reason,
    Instant created,
    Instant expires) {

  public enum Kind {
    /** Scheduled queues hold their mail. */
    SUSPEND,
    /** A destination site's ready queues hold their mail. */
    SUSPEND_READY,
    /** Matching mail is bounced, the queued mail at once and arriving mail while it lasts. */
    BOUNCE
  }

  public boolean isExpired(Instant now) {
    return expires != null && !now.isBefore(expires);
  }

  /** What it applies to, for listings. */
  public String target() {
    return selector != null ? selector.toString() : "site=" + site;
  }
}
