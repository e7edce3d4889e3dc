package org.postilion.api.reception;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A message on its way from an ingress to the spool, as {@link ReceptionFilter}s see it. Not
 * thread-safe: the filters of one message run one after another.
 */
public final class ReceivedMessage {
  private final String id;
  private final Instant receivedAt;
  private final Submission submission;
  private final Map<String, String> meta = new LinkedHashMap<>();
  private byte[] content;
  private String tenant;
  private String campaign;
  private String queue;

  public ReceivedMessage(String id, Instant receivedAt, Submission submission, byte[] content) {
    this.id = id;
    this.receivedAt = receivedAt;
    this.submission = submission;
    this.content = content;
  }

  /** The id the message will be spooled under. */
  public String id() {
    return id;
  }

  public Instant receivedAt() {
    return receivedAt;
  }

  /** The envelope and the client's session, as the ingress handed them over. */
  public Submission submission() {
    return submission;
  }

  /** The RFC 5322 bytes as they stand now, with CRLF line endings. */
  public byte[] content() {
    return content;
  }

  /** Replaces the message bytes; later filters and the spool see the new ones. */
  public void content(byte[] replacement) {
    this.content = replacement;
  }

  /** Notes for the Reception record's {@code meta}, e.g. why a message went out unsigned. */
  public Map<String, String> meta() {
    return Collections.unmodifiableMap(meta);
  }

  public void putMeta(String key, String value) {
    meta.put(key, value);
  }

  /** The tenant the queue manager found (authenticated user, then header), or a filter's choice. */
  public String tenant() {
    return tenant;
  }

  public void tenant(String tenant) {
    this.tenant = tenant;
  }

  public String campaign() {
    return campaign;
  }

  public void campaign(String campaign) {
    this.campaign = campaign;
  }

  /**
   * A scheduled queue name ({@code campaign:tenant@domain}) that a filter chose for every
   * recipient, or {@code null} to name each recipient's queue from tenant, campaign and domain.
   */
  public String queue() {
    return queue;
  }

  public void queue(String queue) {
    this.queue = queue;
  }
}
