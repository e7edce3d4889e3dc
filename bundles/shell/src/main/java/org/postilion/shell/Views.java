package org.postilion.shell;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.queue.Durations;

/** How the commands show values: the same in tables and in --json. */
final class Views {
  private Views() {}

  static String time(Instant instant) {
    return instant == null ? "" : instant.toString();
  }

  static Duration duration(String text, String option) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return Durations.parse(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }

  static Map<String, Object> map(ScheduledQueueStatus q) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("queue", q.name());
    m.put("protocol", q.protocol());
    m.put("count", q.recipients());
    m.put("oldest", time(q.oldest()));
    m.put("next_due", q.nextDue() == null ? null : time(q.nextDue()));
    m.put("in_delivery", q.inDelivery());
    m.put("state", q.state());
    return m;
  }

  static Map<String, Object> map(ReadyQueueStatus r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", r.name());
    m.put("protocol", r.protocol());
    m.put("site", r.site());
    m.put("source", r.source());
    m.put("ready", r.ready());
    m.put("connections", r.connections());
    m.put("suspended", r.suspended());
    return m;
  }

  static Map<String, Object> map(QueuedRecipient r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.messageId());
    m.put("recipient", r.recipient());
    m.put("queue", r.queue());
    m.put("created", time(r.created()));
    m.put("due", time(r.due()));
    m.put("attempts", r.attempts());
    m.put("state", r.state());
    m.put("last_response", r.lastResponse());
    return m;
  }

  static Map<String, Object> map(AdminAction a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", a.id());
    m.put("kind", a.kind().name().toLowerCase(Locale.ROOT));
    m.put("target", a.target());
    m.put("reason", a.reason());
    m.put("created", time(a.created()));
    m.put("expires", a.expires() == null ? null : time(a.expires()));
    return m;
  }
}
