package org.postilion.api.event;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;
import org.postilion.api.json.Json;

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

  /** The record as one line of JSON, in KumoMTA's field names; unknown fields are left out. */
  public String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("type", type.recordName());
    put(json, "id", id);
    put(json, "sender", sender);
    put(json, "recipient", recipient);
    put(json, "queue", queue);
    put(json, "site", site);
    json.put("size", size);
    if (response != null) {
      Map<String, Object> reply = new LinkedHashMap<>();
      reply.put("code", response.code());
      put(reply, "enhanced_code", response.enhancedCode());
      put(reply, "content", response.content());
      json.put("response", reply);
    }
    if (peerAddress != null) {
      Map<String, Object> peer = new LinkedHashMap<>();
      put(peer, "name", peerAddress.name());
      put(peer, "addr", peerAddress.addr());
      json.put("peer_address", peer);
    }
    put(json, "timestamp", timestamp);
    put(json, "created", created);
    json.put("num_attempts", numAttempts);
    put(json, "tenant", tenant);
    put(json, "campaign", campaign);
    put(json, "delivery_protocol", deliveryProtocol);
    put(json, "reception_protocol", receptionProtocol);
    put(json, "tls_protocol_version", tlsProtocolVersion);
    put(json, "tls_cipher", tlsCipher);
    if (!meta.isEmpty()) {
      json.put("meta", new TreeMap<>(meta));
    }
    return Json.write(json);
  }

  private static void put(Map<String, Object> json, String name, Object value) {
    if (value != null) {
      json.put(name, value);
    }
  }
}
