package org.postilion.http.admin;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postilion.api.admin.MessageDetails;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueCounts;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.admin.Selector;
import org.postilion.api.queue.Durations;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.http.web.RequestException;

/**
 * KumoMTA's {@code GET /api/admin/inspect-sched-q/v1?queue_name=...}: the queue's messages (one
 * entry per message, its recipients in this queue), its length and its configuration, in KumoMTA's
 * {@code InspectQueueV1Response} shape.
 */
final class SchedQueueInspection {
  private SchedQueueInspection() {}

  static Map<String, Object> inspect(
      QueueAdmin admin, String queueName, boolean wantBody, Integer limit) throws RequestException {
    QueueName queue;
    try {
      queue = QueueName.parse(queueName);
    } catch (IllegalArgumentException e) {
      throw new RequestException(400, "queue_name", e.getMessage());
    }
    QueueCounts counts = admin.counts().get(queue.toString());
    if (counts == null) {
      throw new RequestException(404, "queue_name", "no such queue " + queueName);
    }
    int recipients = limit == null ? Integer.MAX_VALUE : Math.max(0, limit);
    Map<String, List<QueuedRecipient>> byMessage = new LinkedHashMap<>();
    for (QueuedRecipient recipient :
        admin.list(new Selector(null, null, null, queue.toString()), recipients)) {
      byMessage.computeIfAbsent(recipient.messageId(), id -> new ArrayList<>()).add(recipient);
    }
    List<Map<String, Object>> messages = new ArrayList<>();
    byMessage.forEach(
        (id, queued) -> {
          Optional<MessageDetails> details = admin.message(id);
          details.ifPresent(
              d -> messages.add(Map.of("id", id, "message", message(d, queued, wantBody))));
        });
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("queue_name", queue.toString());
    response.put("messages", messages);
    response.put("num_scheduled", counts.scheduled());
    response.put("queue_config", config(admin.queueConfig(queue.toString())));
    response.put("delayed_metric", counts.delayed());
    String now = Instant.now().toString();
    response.put("now", now);
    // Not tracked here: the time of the answer stands in for it.
    response.put("last_changed", now);
    return response;
  }

  /** KumoMTA's {@code MessageInformation}. */
  private static Map<String, Object> message(
      MessageDetails details, List<QueuedRecipient> queued, boolean wantBody) {
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("sender", details.sender());
    message.put(
        "recipient",
        queued.size() == 1
            ? queued.get(0).recipient()
            : queued.stream().map(QueuedRecipient::recipient).toList());
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("queue", queued.get(0).queue());
    putPresent(meta, "tenant", details.tenant());
    putPresent(meta, "campaign", details.campaign());
    putPresent(meta, "reception_protocol", details.receptionProtocol());
    message.put("meta", meta);
    // The header section: the admin API does not read whole messages back from the spool.
    message.put("data", wantBody ? details.headers() : null);
    queued.stream()
        .map(QueuedRecipient::due)
        .filter(d -> d != null)
        .min(Instant::compareTo)
        .ifPresent(due -> message.put("due", due.toString()));
    message.put(
        "num_attempts", queued.stream().mapToInt(QueuedRecipient::attempts).max().orElse(0));
    return message;
  }

  /** The parts of KumoMTA's {@code QueueConfig} that Postilion has, under its names. */
  private static Map<String, Object> config(QueueConfig config) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("retry_interval", Durations.format(config.retry().interval()));
    json.put(
        "max_retry_interval",
        config.retry().maxInterval() == null
            ? null
            : Durations.format(config.retry().maxInterval()));
    json.put("max_age", Durations.format(config.maxAge()));
    json.put("egress_pool", config.egressPool() == null ? "unspecified" : config.egressPool());
    json.put(
        "max_message_rate",
        config.maxMessageRate() == null ? null : config.maxMessageRate().toString());
    json.put("protocol", config.protocol());
    return json;
  }

  private static void putPresent(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
