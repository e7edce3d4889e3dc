package org.postilion.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * KumoMTA's log record (docs/reference/log_record.md and {@code JsonLogRecord} in kumo-log-types),
 * field by field: a record that passes has every field KumoMTA always writes, each of the JSON type
 * KumoMTA writes, and no field KumoMTA lacks besides the ones Postilion adds and documents.
 */
public final class KumoRecordShape {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** KumoMTA's record types. */
  public static final Set<String> TYPES =
      Set.of(
          "Reception",
          "Delivery",
          "Bounce",
          "TransientFailure",
          "Expiration",
          "AdminBounce",
          "OOB",
          "Feedback",
          "Rejection",
          "AdminRebind",
          "DeferredInjectionRebind",
          "Delayed",
          "XferOut",
          "XferIn");

  /**
   * KumoMTA's predefined bounce classes ({@code PreDefinedBounceClass}); users may define more, so
   * a record may carry any string.
   */
  public static final Set<String> BOUNCE_CLASSES =
      Set.of(
          "Uncategorized",
          "InvalidRecipient",
          "DNSFailure",
          "SpamBlock",
          "SpamContent",
          "ProhibitedAttachment",
          "RelayDenied",
          "AutoReply",
          "TransientFailure",
          "Subscribe",
          "Unsubscribe",
          "ChallengeResponse",
          "BadConfiguration",
          "BadConnection",
          "BadDomain",
          "ContentRelated",
          "InactiveMailbox",
          "InvalidSender",
          "MessageExpired",
          "NoAnswerFromHost",
          "PolicyRelated",
          "ProtocolErrors",
          "QuotaIssues",
          "RelayingIssues",
          "RoutingErrors",
          "SpamRelated",
          "VirusRelated",
          "AuthenticationFailed",
          "TooManyRecipients");

  /** Always written by KumoMTA. */
  private static final List<String> ALWAYS =
      List.of(
          "type",
          "id",
          "sender",
          "recipient",
          "queue",
          "site",
          "size",
          "response",
          "peer_address",
          "timestamp",
          "event_time",
          "created",
          "created_time",
          "num_attempts",
          "bounce_classification",
          "egress_pool",
          "egress_source",
          "source_address",
          "feedback_report",
          "meta",
          "headers",
          "delivery_protocol",
          "reception_protocol",
          "nodeid");

  /** Written by KumoMTA only when known. */
  private static final Set<String> WHEN_KNOWN =
      Set.of(
          "tls_cipher",
          "tls_protocol_version",
          "tls_peer_subject_name",
          "provider_name",
          "session_id");

  /** Postilion's own fields, documented in docs/records.md. */
  private static final Set<String> OURS = Set.of("tenant", "campaign", "node_name");

  private KumoRecordShape() {}

  /** The record parsed, after checking its shape; fails with every problem found. */
  public static JsonNode check(String line) {
    JsonNode record;
    try {
      record = MAPPER.readTree(line);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + line, e);
    }
    List<String> problems = problems(record);
    if (!problems.isEmpty()) {
      throw new AssertionError("not KumoMTA's record shape: " + problems + " in " + line);
    }
    return record;
  }

  /** What differs from KumoMTA's shape; empty when nothing does. */
  public static List<String> problems(JsonNode record) {
    List<String> problems = new ArrayList<>();
    if (!record.isObject()) {
      problems.add("not an object");
      return problems;
    }
    for (String field : ALWAYS) {
      if (!record.has(field)) {
        problems.add(field + " missing");
      }
    }
    for (Iterator<String> names = record.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!ALWAYS.contains(name) && !WHEN_KNOWN.contains(name) && !OURS.contains(name)) {
        problems.add(name + " is not a field of KumoMTA's record");
      }
    }
    Check c = new Check(record, problems);
    c.oneOf("type", TYPES);
    c.string("id");
    c.string("sender");
    if (!record.path("recipient").isTextual() && !isStringArray(record.path("recipient"))) {
      problems.add("recipient is neither a string nor an array of strings");
    }
    c.string("queue");
    c.string("site");
    c.count("size");
    response(record.path("response"), problems);
    JsonNode peer = record.path("peer_address");
    if (!peer.isNull()) {
      Check p = new Check(peer, problems, "peer_address.");
      p.string("name");
      p.string("addr");
    }
    c.count("timestamp");
    c.rfc3339("event_time");
    c.count("created");
    c.rfc3339("created_time");
    c.count("num_attempts");
    c.string("bounce_classification");
    c.stringOrNull("egress_pool");
    c.stringOrNull("egress_source");
    JsonNode source = record.path("source_address");
    if (!source.isNull()) {
      new Check(source, problems, "source_address.").string("address");
    }
    c.objectOrNull("feedback_report");
    c.object("meta");
    c.object("headers");
    c.stringOrNull("delivery_protocol");
    c.stringOrNull("reception_protocol");
    c.uuid("nodeid");
    c.ifPresent("tls_cipher", c::string);
    c.ifPresent("tls_protocol_version", c::string);
    if (record.has("tls_peer_subject_name")
        && !isStringArray(record.path("tls_peer_subject_name"))) {
      problems.add("tls_peer_subject_name is not an array of strings");
    }
    c.ifPresent("provider_name", c::string);
    c.ifPresent("session_id", c::uuid);
    return problems;
  }

  private static void response(JsonNode response, List<String> problems) {
    if (!response.isObject()) {
      problems.add("response is not an object");
      return;
    }
    Check r = new Check(response, problems, "response.");
    r.count("code");
    JsonNode enhanced = response.path("enhanced_code");
    if (!response.has("enhanced_code")) {
      problems.add("response.enhanced_code missing");
    } else if (!enhanced.isNull()) {
      Check e = new Check(enhanced, problems, "response.enhanced_code.");
      e.count("class");
      e.count("subject");
      e.count("detail");
      if (enhanced.size() != 3) {
        problems.add("response.enhanced_code has fields besides class, subject and detail");
      }
    }
    r.string("content");
    if (response.path("content").asText().contains("\n")) {
      problems.add("response.content has a line break (KumoMTA writes one line)");
    }
    if (!response.has("command")) {
      problems.add("response.command missing");
    } else {
      r.stringOrNull("command");
    }
  }

  private static boolean isStringArray(JsonNode node) {
    if (!node.isArray()) {
      return false;
    }
    for (JsonNode element : node) {
      if (!element.isTextual()) {
        return false;
      }
    }
    return true;
  }

  private record Check(JsonNode node, List<String> problems, String prefix) {
    Check(JsonNode node, List<String> problems) {
      this(node, problems, "");
    }

    void string(String field) {
      if (!node.path(field).isTextual()) {
        problems.add(prefix + field + " is not a string: " + node.path(field));
      }
    }

    void stringOrNull(String field) {
      if (!node.has(field) || !(node.get(field).isTextual() || node.get(field).isNull())) {
        problems.add(prefix + field + " is neither a string nor null: " + node.path(field));
      }
    }

    void count(String field) {
      if (!node.path(field).isIntegralNumber() || node.path(field).asLong() < 0) {
        problems.add(prefix + field + " is not a non-negative integer: " + node.path(field));
      }
    }

    void object(String field) {
      if (!node.path(field).isObject()) {
        problems.add(prefix + field + " is not an object: " + node.path(field));
      }
    }

    void objectOrNull(String field) {
      if (!node.has(field) || !(node.get(field).isObject() || node.get(field).isNull())) {
        problems.add(prefix + field + " is neither an object nor null: " + node.path(field));
      }
    }

    void oneOf(String field, Set<String> values) {
      if (!values.contains(node.path(field).asText(null))) {
        problems.add(prefix + field + " is not one of KumoMTA's values: " + node.path(field));
      }
    }

    void rfc3339(String field) {
      try {
        OffsetDateTime.parse(node.path(field).asText(""));
      } catch (RuntimeException e) {
        problems.add(prefix + field + " is not an RFC 3339 time: " + node.path(field));
      }
    }

    void uuid(String field) {
      try {
        UUID.fromString(node.path(field).asText(""));
      } catch (RuntimeException e) {
        problems.add(prefix + field + " is not a UUID: " + node.path(field));
      }
    }

    void ifPresent(String field, java.util.function.Consumer<String> check) {
      if (node.has(field)) {
        check.accept(field);
      }
    }
  }
}
