package org.postilion.api.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.postilion.api.queue.Durations;

/**
 * Suspensions and bounces as KumoMTA lists them ({@code GET /api/admin/suspend/v1}, {@code
 * suspend-ready-q/v1}, {@code bounce/v1}, and kcli's {@code --json}): the admin API and the {@code
 * mta:*-list --json} commands print the same objects.
 */
public final class KumoListEntries {
  private KumoListEntries() {}

  /** {@code BounceV1ListEntry}. */
  public static Map<String, Object> bounce(
      AdminAction bounce, Map<String, Long> bounced, Instant now) {
    Map<String, Object> entry = criteria(bounce);
    entry.put("routing_domain", null);
    entry.put("reason", reasonOf(bounce));
    entry.put("duration", remaining(bounce, now));
    entry.put("bounced", bounced);
    entry.put("total_bounced", bounced.values().stream().mapToLong(Long::longValue).sum());
    return entry;
  }

  /** {@code SuspendV1ListEntry}. */
  public static Map<String, Object> suspend(AdminAction suspension, Instant now) {
    Map<String, Object> entry = criteria(suspension);
    entry.put("reason", reasonOf(suspension));
    entry.put("duration", remaining(suspension, now));
    return entry;
  }

  /** {@code SuspendReadyQueueV1ListEntry}. */
  public static Map<String, Object> suspendReady(AdminAction suspension, Instant now) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("id", suspension.id());
    entry.put("name", suspension.site());
    entry.put("reason", reasonOf(suspension));
    entry.put("duration", remaining(suspension, now));
    entry.put("expires", suspension.expires() == null ? null : suspension.expires().toString());
    return entry;
  }

  private static Map<String, Object> criteria(AdminAction action) {
    Map<String, Object> entry = new LinkedHashMap<>();
    Selector selector = action.selector();
    entry.put("id", action.id());
    entry.put("campaign", selector == null ? null : selector.campaign());
    entry.put("tenant", selector == null ? null : selector.tenant());
    entry.put("domain", selector == null ? null : selector.domain());
    return entry;
  }

  private static String reasonOf(AdminAction action) {
    return action.reason() == null ? "" : action.reason();
  }

  /** Time left, as KumoMTA lists it; an action without an end has years left. */
  private static String remaining(AdminAction action, Instant now) {
    return action.expires() == null
        ? Durations.format(Duration.ofDays(365 * 100))
        : Durations.format(Duration.between(now, action.expires()));
  }
}
