package org.postilion.http.admin;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.postilion.api.admin.Selector;
import org.postilion.api.queue.Durations;
import org.postilion.http.web.RequestException;

/**
 * The request bodies and list entries of KumoMTA's admin API (kumo-api-types, KumoMTA 2026.06.23):
 * the same field names, types, defaults and checks, so that kcli and scripts written for KumoMTA
 * work against this server.
 */
final class KumoRequests {
  /** KumoMTA's default for bounce, suspend and suspend-ready-q without duration or expires. */
  static final Duration DEFAULT_DURATION = Duration.ofMinutes(5);

  /** Longer than any action needs, short enough for every date it ends at to be stored. */
  static final Duration MAX_DURATION = Duration.ofDays(3650);

  /** The longest list of queue names the spool keeps with an action. */
  private static final int MAX_QUEUE_NAMES_LENGTH = 1024;

  private static final Set<String> BOUNCE_FIELDS =
      Set.of(
          "reason",
          "campaign",
          "tenant",
          "domain",
          "routing_domain",
          "queue_names",
          "duration",
          "expires",
          "suppress_logging");

  private static final Set<String> XFER_FIELDS =
      Set.of("target", "reason", "campaign", "tenant", "domain", "routing_domain", "queue_names");

  private KumoRequests() {}

  /** {@code XferV1Request}: which queued mail goes to which node. */
  record Xfer(Selector selector, String target, String reason) {}

  static Xfer xfer(JsonNode body) throws RequestException {
    onlyKnown(body, XFER_FIELDS);
    String target = required(body, "target", "the other node's HTTP API URL");
    return new Xfer(selector(body, true), target, reason(body));
  }

  /** {@code XferCancelV1Request}: the xfer by its queue name. */
  record XferCancel(String name, String reason) {}

  static XferCancel xferCancel(JsonNode body) throws RequestException {
    return new XferCancel(required(body, "queue_name", "the xfer's queue name"), reason(body));
  }

  /** Refuses (422) a field the request type does not have, as KumoMTA refuses it. */
  private static void onlyKnown(JsonNode body, Set<String> fields) throws RequestException {
    for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw new RequestException(422, name, "unknown field; expected one of " + fields);
      }
    }
  }

  /** A text field that must be there and not blank, trimmed; {@code what} says what it names. */
  private static String required(JsonNode body, String field, String what) throws RequestException {
    String value = text(body, field);
    if (value == null || value.isBlank()) {
      throw new RequestException(422, field, "is required: " + what);
    }
    return value.trim();
  }

  /** A bounce, suspension or ready-queue suspension as the request asked for it. */
  record Action(Selector selector, String name, Duration duration, String reason) {}

  /** {@code BounceV1Request}: unknown fields are refused (422), as KumoMTA refuses them. */
  static Action bounce(JsonNode body, Instant now) throws RequestException {
    onlyKnown(body, BOUNCE_FIELDS);
    if (body.path("suppress_logging").asBoolean(false)) {
      throw new RequestException(
          422, "suppress_logging", "not supported here: AdminBounce records are always written");
    }
    return new Action(selector(body, true), null, duration(body, now), reason(body));
  }

  /** {@code SuspendV1Request}. */
  static Action suspend(JsonNode body, Instant now) throws RequestException {
    return new Action(selector(body, false), null, duration(body, now), reason(body));
  }

  /** {@code SuspendReadyQueueV1Request}: one ready queue by its exact name. */
  static Action suspendReady(JsonNode body, Instant now) throws RequestException {
    String name = required(body, "name", "the ready queue's name");
    return new Action(null, name, duration(body, now), reason(body));
  }

  /** {@code AbortReadyQConnV1Request}: one session of one ready queue. */
  record Abort(String queue, String session) {}

  static Abort abort(JsonNode body) throws RequestException {
    String queue = body.path("queue_name").asText("");
    String session = body.path("session_id").asText("");
    if (queue.isBlank()) {
      throw new RequestException(422, "queue_name", "is required");
    }
    if (session.isBlank()) {
      throw new RequestException(422, "session_id", "is required");
    }
    return new Abort(queue, session);
  }

  /** {@code {"id": "..."}} of the cancel requests; the query parameter {@code id} also does. */
  static String id(JsonNode body, String parameter) throws RequestException {
    String id = parameter != null ? parameter : text(body, "id");
    if (id == null || id.isBlank()) {
      throw new RequestException(422, "id", "is required");
    }
    return id.trim();
  }

  private static Selector selector(JsonNode body, boolean routingDomainAllowed)
      throws RequestException {
    if (routingDomainAllowed && text(body, "routing_domain") != null) {
      throw new RequestException(
          422, "routing_domain", "not supported here: queues have no routing domain");
    }
    List<String> queues = new ArrayList<>();
    if (!routingDomainAllowed && text(body, "queue") != null) {
      // Postilion's own name for one queue, as the retry-now and rebind bodies take it.
      queues.add(text(body, "queue").trim());
    }
    JsonNode names = body.get("queue_names");
    if (names != null && !names.isNull()) {
      if (!names.isArray()) {
        throw new RequestException(422, "queue_names", "must be an array of queue names");
      }
      for (JsonNode name : names) {
        if (!name.isTextual() || name.asText().isBlank() || name.asText().contains(",")) {
          throw new RequestException(422, "queue_names", "not a queue name: " + name);
        }
        queues.add(name.asText().trim());
      }
    }
    try {
      if (!queues.isEmpty()) {
        // KumoMTA: queue names, when given, replace the other criteria.
        Selector selector = Selector.ofQueues(queues);
        if (selector.queue().length() > MAX_QUEUE_NAMES_LENGTH) {
          throw new RequestException(
              422, "queue_names", "longer than " + MAX_QUEUE_NAMES_LENGTH + " characters in all");
        }
        return selector;
      }
      // Unlike KumoMTA, no criteria is refused rather than applied to every queue.
      return new Selector(text(body, "domain"), text(body, "tenant"), text(body, "campaign"), null);
    } catch (IllegalArgumentException e) {
      throw new RequestException(422, null, e.getMessage());
    }
  }

  private static String reason(JsonNode body) throws RequestException {
    String reason = text(body, "reason");
    if (reason == null || reason.isBlank()) {
      throw new RequestException(422, "reason", "is required");
    }
    return reason;
  }

  /** {@code expires} (RFC 3339) wins over {@code duration} (humantime or seconds); 5 minutes. */
  private static Duration duration(JsonNode body, Instant now) throws RequestException {
    String expires = text(body, "expires");
    if (expires != null) {
      try {
        Duration left = Duration.between(now, Instant.parse(expires));
        // KumoMTA: an end in the past ends the action at once.
        return left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left;
      } catch (DateTimeParseException e) {
        throw new RequestException(422, "expires", "not an RFC 3339 time: " + expires);
      }
    }
    JsonNode duration = body.get("duration");
    if (duration == null || duration.isNull()) {
      return DEFAULT_DURATION;
    }
    Duration parsed;
    if (duration.isNumber()) {
      double seconds = duration.asDouble();
      if (!(seconds > 0) || seconds > MAX_DURATION.toSeconds()) {
        throw new RequestException(422, "duration", "must be between 0 and " + MAX_DURATION);
      }
      parsed = Duration.ofMillis((long) (seconds * 1000));
    } else {
      try {
        parsed = Durations.parse(duration.asText());
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw new RequestException(422, "duration", e.getMessage());
      }
    }
    if (parsed.isZero() || parsed.isNegative() || parsed.compareTo(MAX_DURATION) > 0) {
      throw new RequestException(422, "duration", "must be between 0 and " + MAX_DURATION);
    }
    return parsed;
  }

  private static String text(JsonNode body, String field) {
    JsonNode node = body.get(field);
    return node == null || node.isNull() ? null : node.asText();
  }
}
