package org.postilion.api.event;

import java.time.Instant;
import org.postilion.api.delivery.Response;

/**
 * One state change of one message and recipient, with KumoMTA's field names in its JSON form.
 * Fields that do not apply are {@code null}.
 *
 * @param peerAddress who answered: a host and address, a maildir path
 * @param created when the message was received
 * @param numAttempts attempts made so far, including the one this record reports
 */
public record EventRecord(
    EventType type,
    String id,
    String sender,
    String recipient,
    String queue,
    String site,
    long size,
    Response response,
    String peerAddress,
    Instant timestamp,
    Instant created,
    int numAttempts,
    String tenant,
    String campaign,
    String deliveryProtocol,
    String receptionProtocol) {

  /** The record as one line of JSON. */
  public String toJson() {
    JsonWriter json = new JsonWriter();
    json.field("type", type.recordName())
        .field("id", id)
        .field("sender", sender)
        .field("recipient", recipient)
        .field("queue", queue)
        .field("site", site)
        .field("size", size);
    if (response != null) {
      json.object("response")
          .field("code", response.code())
          .field("enhanced_code", response.enhancedCode())
          .field("content", response.content())
          .end();
    }
    return json.field("peer_address", peerAddress)
        .field("timestamp", timestamp == null ? null : timestamp.toString())
        .field("created", created == null ? null : created.toString())
        .field("num_attempts", numAttempts)
        .field("tenant", tenant)
        .field("campaign", campaign)
        .field("delivery_protocol", deliveryProtocol)
        .field("reception_protocol", receptionProtocol)
        .finish();
  }
}
