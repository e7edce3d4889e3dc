package org.postilion.api.event;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;

/**
 * One state change of one message and recipient, with KumoMTA's field names in its JSON form.
 * Fields that do not apply are {@code null}.
 *
 * @param peerAddress who answered (a host and address, a maildir path), or who sent the message
 * @param tlsProtocolVersion the TLS protocol of the delivery, when it was encrypted
 * @param tlsCipher the TLS cipher suite of the delivery, when it was encrypted
 * @param created when the message was received
 * @param numAttempts attempts made so far, including the one this record reports
 * @param meta notes attached to the message, e.g. why it was not signed; empty when there are none
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
    PeerAddress peerAddress,
    Instant timestamp,
    Instant created,
    int numAttempts,
    String tenant,
    String campaign,
    String deliveryProtocol,
    String receptionProtocol,
    String tlsProtocolVersion,
    String tlsCipher,
    Map<String, String> meta)
    implements java.io.Serializable {

  public EventRecord {
    meta = meta == null ? Map.of() : Map.copyOf(meta);
  }

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
    if (peerAddress != null) {
      json.object("peer_address")
          .field("name", peerAddress.name())
          .field("addr", peerAddress.addr())
          .end();
    }
    json.field("timestamp", timestamp == null ? null : timestamp.toString())
        .field("created", created == null ? null : created.toString())
        .field("num_attempts", numAttempts)
        .field("tenant", tenant)
        .field("campaign", campaign)
        .field("delivery_protocol", deliveryProtocol)
        .field("reception_protocol", receptionProtocol)
        .field("tls_protocol_version", tlsProtocolVersion)
        .field("tls_cipher", tlsCipher);
    if (!meta.isEmpty()) {
      json.object("meta");
      new TreeMap<>(meta).forEach(json::field);
      json.end();
    }
    return json.finish();
  }
}
