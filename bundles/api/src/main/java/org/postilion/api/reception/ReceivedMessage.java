package org.postilion.api.reception;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.message.HeaderSection;

/**
 * A message on its way from an ingress to the spool, as {@link ReceptionFilter}s see it: the header
 * section in memory, where filters edit it, and the body as a stream that may lie on disk, so that
 * a large message is never held whole in the heap. Not thread-safe: the filters of one message run
 * one after another.
 */
public final class ReceivedMessage implements MessageContent {
  private final String id;
  private final Instant receivedAt;
  private final Submission submission;
  private final Map<String, String> meta = new LinkedHashMap<>();
  private byte[] head;
  private MessageContent body;
  private String tenant;
  private String campaign;
  private String queue;

  /**
   * @param head the header section and the blank line that ends it, CRLF line endings
   * @param body the bytes after the blank line
   */
  public ReceivedMessage(
      String id, Instant receivedAt, Submission submission, byte[] head, MessageContent body) {
    this.id = id;
    this.receivedAt = receivedAt;
    this.submission = submission;
    this.head = head;
    this.body = body;
  }

  /** A message whose bytes are all in memory, split here into header section and body. */
  public ReceivedMessage(String id, Instant receivedAt, Submission submission, byte[] content) {
    this(id, receivedAt, submission, content, HeaderSection.parse(content).bodyStart());
  }

  private ReceivedMessage(
      String id, Instant receivedAt, Submission submission, byte[] content, int bodyStart) {
    this(
        id,
        receivedAt,
        submission,
        Arrays.copyOf(content, bodyStart),
        MessageContent.of(Arrays.copyOfRange(content, bodyStart, content.length)));
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

  /**
   * The header section as it stands now, with the blank line that ends it; {@link HeaderSection}
   * parses and edits it.
   */
  public byte[] head() {
    return head;
  }

  /** Replaces the header section; later filters and the spool see the new one. */
  public void head(byte[] replacement) {
    this.head = replacement;
  }

  /** The body: everything after the header section's blank line. */
  public MessageContent body() {
    return body;
  }

  /** Replaces the body, for a filter that rewrites the message. */
  public void body(MessageContent replacement) {
    this.body = replacement;
  }

  /** The whole message as it stands now: the header section, then the body. */
  @Override
  public InputStream open() throws IOException {
    return new SequenceInputStream(new ByteArrayInputStream(head), body.open());
  }

  @Override
  public long size() {
    return head.length + body.size();
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
