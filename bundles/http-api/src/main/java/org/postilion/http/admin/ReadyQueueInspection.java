package org.postilion.http.admin;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.ReadyQueueDetails;
import org.postilion.api.admin.ReadyQueueSession;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.queue.Durations;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.http.web.RequestException;

/**
 * KumoMTA's ready-queue endpoints: {@code inspect-ready-q/v1} ({@code InspectReadyQV1Response}) and
 * {@code ready-q-states/v1} ({@code ReadyQueueStateResponse}), from the queue manager's ready
 * queues and their sessions.
 */
final class ReadyQueueInspection {
  private ReadyQueueInspection() {}

  static Map<String, Object> inspect(QueueAdmin admin, String name) throws RequestException {
    if (name == null || name.isBlank()) {
      throw RequestException.badField("queue_name", "is required");
    }
    ReadyQueueDetails details =
        admin
            .readyQueue(name)
            .orElseThrow(
                () -> new RequestException(404, "queue_name", "no such ready queue " + name));
    Instant now = Instant.now();
    ReadyQueueStatus status = details.status();
    ShapingSettings limits = details.shaping();
    Map<String, Object> response = new LinkedHashMap<>();
    response.put("queue_name", status.name());
    // Postilion keeps no MX resolution with the ready queue: the site name says the hosts.
    response.put("mx", null);
    response.put("egress_source", status.source());
    response.put("egress_pool", details.egressPool());
    response.put("protocol", status.protocol());
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("ready_count", status.ready());
    state.put("connection_count", status.connections());
    state.put("connection_rate_throttled", null);
    state.put("connection_limited", connectionLimited(details));
    state.put("suspended", suspension(admin, status, now));
    // No progress watchdog here: each protocol bounds every step with its own timeouts.
    state.put("watchdog_threshold", null);
    response.put("state", state);
    Map<String, Object> pathConfig = new LinkedHashMap<>();
    pathConfig.put("connection_limit", limits.connectionLimit());
    pathConfig.put("max_ready", limits.maxReady());
    pathConfig.put("max_message_rate", rate(limits.maxMessageRate()));
    pathConfig.put("max_connection_rate", rate(limits.maxConnectionRate()));
    pathConfig.put("max_deliveries_per_connection", limits.maxDeliveriesPerConnection());
    pathConfig.put("idle_timeout", Durations.format(limits.idleTimeout()));
    response.put("path_config", pathConfig);
    Map<String, Object> constraints = new LinkedHashMap<>();
    constraints.put(
        "max_concurrent_dispatchers",
        ceiling(limits.connectionLimit(), String.valueOf(limits.connectionLimit())));
    constraints.put("max_message_rate", ceiling(limits.maxMessageRate()));
    constraints.put("max_message_rate_declared", rate(limits.maxMessageRate()));
    constraints.put("max_connection_rate", ceiling(limits.maxConnectionRate()));
    constraints.put("max_source_selection_rate", null);
    response.put("constraints", constraints);
    response.put("dispatchers", details.sessions().stream().map(s -> dispatcher(s, now)).toList());
    response.put("now", now.toString());
    return response;
  }

  /** Every ready queue in a state worth knowing; the ones in none are left out, as KumoMTA does. */
  static Map<String, Object> states(QueueAdmin admin) {
    Map<String, Object> byQueue = new LinkedHashMap<>();
    for (ReadyQueueStatus status : admin.readyQueues()) {
      admin
          .readyQueue(status.name())
          .map(ReadyQueueInspection::connectionLimited)
          .ifPresent(limited -> byQueue.put(status.name(), Map.of("connection_limited", limited)));
    }
    return Map.of("states_by_ready_queue", byQueue);
  }

  private static Map<String, Object> connectionLimited(ReadyQueueDetails details) {
    if (details.connectionLimitedSince() == null) {
      return null;
    }
    Map<String, Object> state = new LinkedHashMap<>();
    state.put(
        "context",
        "connection_limit " + details.shaping().connectionLimit() + " reached, mail waits");
    state.put("since", details.connectionLimitedSince().toString());
    return state;
  }

  private static Map<String, Object> suspension(
      QueueAdmin admin, ReadyQueueStatus status, Instant now) {
    for (AdminAction action : admin.suspensions()) {
      if (action.kind() == AdminAction.Kind.SUSPEND_READY
          && (status.name().equalsIgnoreCase(action.site())
              || status.site().equalsIgnoreCase(action.site()))) {
        return org.postilion.api.admin.KumoListEntries.suspendReady(action, now);
      }
    }
    return null;
  }

  /** KumoMTA's {@code DispatcherSummary}. */
  private static Map<String, Object> dispatcher(ReadyQueueSession session, Instant now) {
    Duration age = Duration.between(session.startedAt(), now);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("session_id", session.sessionId());
    json.put("started_at", session.startedAt().toString());
    json.put("age", Durations.format(age));
    json.put("phase", session.phase());
    json.put("detail", null);
    json.put(
        "time_in_current_phase", Durations.format(Duration.between(session.phaseSince(), now)));
    json.put("messages_delivered", session.delivered());
    json.put("messages_transfailed", session.transfailed());
    json.put("messages_failed", session.failed());
    json.put("delivered_this_connection", session.delivered());
    double seconds = Math.max(age.toMillis(), 1) / 1000.0;
    json.put(
        "overall_rate_per_sec",
        (session.delivered() + session.transfailed() + session.failed()) / seconds);
    return json;
  }

  private static String rate(Rate rate) {
    return rate == null ? null : rate.toString();
  }

  /** KumoMTA's {@code EffectiveCeiling} of a rate, in events per second. */
  private static Map<String, Object> ceiling(Rate rate) {
    if (rate == null) {
      return null;
    }
    double perSecond = rate.count() / (rate.period().toNanos() / 1e9);
    return ceiling(perSecond, rate.toString());
  }

  private static Map<String, Object> ceiling(double value, String display) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("value", value);
    json.put("source", Map.of("kind", "primary"));
    json.put("display", display);
    return json;
  }
}
