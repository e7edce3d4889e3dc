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
}
