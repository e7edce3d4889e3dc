package org.postilion.testkit;

import java.time.Instant;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;

/** Event records for tests of what consumes them: a plausible record, to adjust as needed. */
public final class EventRecords {
  /** The node id of the records made here. */
  public static final String NODE_ID = "557f3ad4-2c8c-11ee-976e-782d7e12e173";

  private EventRecords() {}

  /** A record of {@code type} for {@code recipient}, made at {@code at}, of a first attempt. */
  public static EventRecord.Builder of(EventType type, String recipient, Instant at) {
    return EventRecord.builder(type)
        .id("id-" + recipient)
        .sender("a@example.com")
        .recipient(recipient)
        .queue("example.net")
        .size(10)
        .response(Response.of(250, "2.0.0", "ok"))
        .timestamp(at)
        .created(at)
        .numAttempts(1)
        .deliveryProtocol("ESMTP")
        .receptionProtocol("ESMTP")
        .nodeId(NODE_ID);
  }
}
