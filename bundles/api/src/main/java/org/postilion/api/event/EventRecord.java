package org.postilion.api.event;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;
import org.postilion.api.json.Json;

/**
 * One state change of one message and recipient. Its JSON form ({@link #toJson}) is KumoMTA's log
 * record (docs/reference/log_record.md): the same fields, types and nesting, so that tools written
 * for KumoMTA's logs read ours; {@code tenant} and {@code campaign} are added. Use {@link
 * #builder}.
 *
 * @param site where the attempt went (the ready queue's site); empty for records of reception
 * @param response the reply of the attempt or to the client; a bare 250 for a Reception
 * @param peerAddress who answered (a host and address, a maildir path), or who sent the message
 * @param timestamp when the record was made
 * @param created when the message was received
 * @param numAttempts attempts made so far, including the one this record reports
 * @param bounceClassification the class of the failure (KumoMTA's bounce classes), {@code
 *     Uncategorized} when unknown
 * @param sourceAddress the local address and port an SMTP delivery left from
 * @param meta notes attached to the message, e.g. why it was not signed
 * @param headers message header fields captured by configuration
 * @param nodeId the id of the node that wrote the record, kept in its data folder
 * @param nodeName that node's name (ours: {@code node.name} of its cluster cfg, else its host name)
 * @param tlsPeerSubjectName the subject of the peer's certificate, one element per RDN
 * @param sessionId shared by the records of one connection (reception) or session (delivery)
 * @param feedbackReport for a Feedback record, the ARF report as KumoMTA writes it ({@code
 *     feedback_type}, {@code user_agent}, ...); {@code null} otherwise
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
    String bounceClassification,
    String egressPool,
    String egressSource,
    String sourceAddress,
    Map<String, String> meta,
    Map<String, String> headers,
    String deliveryProtocol,
    String receptionProtocol,
    String nodeId,
    String nodeName,
    String tlsCipher,
    String tlsProtocolVersion,
    List<String> tlsPeerSubjectName,
    String sessionId,
    String tenant,
    String campaign,
    Map<String, Object> feedbackReport)
    implements java.io.Serializable {

  /** KumoMTA's class of a failure nobody classified. */
  public static final String UNCATEGORIZED = "Uncategorized";

  /** What a record without a reply of its own (a Reception) carries, as KumoMTA writes it. */
  public static final Response ACCEPTED = Response.of(250, null, "");

  public EventRecord {
    meta = meta == null ? Map.of() : Map.copyOf(meta);
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    tlsPeerSubjectName = tlsPeerSubjectName == null ? null : List.copyOf(tlsPeerSubjectName);
    bounceClassification = bounceClassification == null ? UNCATEGORIZED : bounceClassification;
    feedbackReport =
        feedbackReport == null
            ? null
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(feedbackReport));
  }

  public static Builder builder(EventType type) {
    return new Builder(type);
  }

  /** A builder that starts from this record. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The record as one line of JSON in KumoMTA's shape: every field of KumoMTA's record is present
   * ({@code null} where unknown), except the TLS fields and {@code session_id}, which KumoMTA also
   * leaves out when there is nothing to say; then ours, {@code tenant} and {@code campaign}.
   */
  public String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("type", type.recordName());
    json.put("id", text(id));
    json.put("sender", text(sender));
    json.put("recipient", text(recipient));
    json.put("queue", text(queue));
    json.put("site", text(site));
    json.put("size", size);
    json.put("response", response(response == null ? ACCEPTED : response));
    json.put("peer_address", peer(peerAddress));
    Instant at = timestamp == null ? Instant.EPOCH : timestamp;
    json.put("timestamp", at.getEpochSecond());
    json.put("event_time", at.toString());
    Instant born = created == null ? at : created;
    json.put("created", born.getEpochSecond());
    json.put("created_time", born.toString());
    json.put("num_attempts", numAttempts);
    json.put("bounce_classification", bounceClassification);
    json.put("egress_pool", egressPool);
    json.put("egress_source", egressSource);
    json.put("source_address", sourceAddress == null ? null : Map.of("address", sourceAddress));
    json.put("feedback_report", feedbackReport);
    json.put("meta", new TreeMap<>(meta));
    json.put("headers", new TreeMap<>(headers));
    json.put("delivery_protocol", deliveryProtocol);
    json.put("reception_protocol", receptionProtocol);
    json.put("nodeid", nodeId);
    putPresent(json, "node_name", nodeName);
    putPresent(json, "tls_cipher", tlsCipher);
    putPresent(json, "tls_protocol_version", tlsProtocolVersion);
    putPresent(json, "tls_peer_subject_name", tlsPeerSubjectName);
    putPresent(json, "session_id", sessionId);
    putPresent(json, "tenant", tenant);
    putPresent(json, "campaign", campaign);
    return Json.write(json);
  }

  private static String text(String value) {
    return value == null ? "" : value;
  }

  private static Map<String, Object> response(Response response) {
    Map<String, Object> reply = new LinkedHashMap<>();
    reply.put("code", response.code());
    reply.put("enhanced_code", enhancedCode(response.enhancedCode()));
    reply.put("content", singleLine(response.content()));
    reply.put("command", response.command());
    return reply;
  }

  /**
   * {@code 5.1.1} as KumoMTA's {@code {"class":5,"subject":1,"detail":1}}; null when absent or not
   * a valid code (KumoMTA accepts only the classes 2, 4 and 5).
   */
  static Map<String, Object> enhancedCode(String code) {
    if (code == null) {
      return null;
    }
    String[] parts = code.trim().split("\\.", -1);
    if (parts.length != 3) {
      return null;
    }
    try {
      int klass = Integer.parseInt(parts[0]);
      int subject = Integer.parseInt(parts[1]);
      int detail = Integer.parseInt(parts[2]);
      if ((klass != 2 && klass != 4 && klass != 5)
          || subject < 0
          || subject > 999
          || detail < 0
          || detail > 999) {
        return null;
      }
      Map<String, Object> parsed = new LinkedHashMap<>();
      parsed.put("class", klass);
      parsed.put("subject", subject);
      parsed.put("detail", detail);
      return parsed;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Line breaks become spaces, as KumoMTA writes a multi-line reply. */
  static String singleLine(String content) {
    if (content == null) {
      return "";
    }
    if (content.indexOf('\r') < 0 && content.indexOf('\n') < 0) {
      return content;
    }
    StringBuilder out = new StringBuilder(content.length());
    for (int i = 0; i < content.length(); i++) {
      char c = content.charAt(i);
      if (c == '\n'
          || (c == '\r' && (i + 1 == content.length() || content.charAt(i + 1) != '\n'))) {
        out.append(' ');
      } else if (c != '\r') {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static Map<String, Object> peer(PeerAddress peer) {
    if (peer == null) {
      return null;
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("name", text(peer.name()));
    json.put("addr", text(peer.addr()));
    return json;
  }

  private static void putPresent(Map<String, Object> json, String name, Object value) {
    if (value != null) {
      json.put(name, value);
    }
  }

  /** Builds a record field by field; what is not set is unknown ({@code null}, 0, empty). */
  public static final class Builder {
    private EventType type;
    private String id;
    private String sender;
    private String recipient;
    private String queue;
    private String site;
    private long size;
    private Response response;
    private PeerAddress peerAddress;
    private Instant timestamp;
    private Instant created;
    private int numAttempts;
    private String bounceClassification;
    private String egressPool;
    private String egressSource;
    private String sourceAddress;
    private Map<String, String> meta;
    private Map<String, String> headers;
    private String deliveryProtocol;
    private String receptionProtocol;
    private String nodeId;
    private String nodeName;
    private String tlsCipher;
    private String tlsProtocolVersion;
    private List<String> tlsPeerSubjectName;
    private String sessionId;
    private String tenant;
    private String campaign;
    private Map<String, Object> feedbackReport;

    private Builder(EventType type) {
      this.type = type;
    }

    private Builder(EventRecord r) {
      type = r.type;
      id = r.id;
      sender = r.sender;
      recipient = r.recipient;
      queue = r.queue;
      site = r.site;
      size = r.size;
      response = r.response;
      peerAddress = r.peerAddress;
      timestamp = r.timestamp;
      created = r.created;
      numAttempts = r.numAttempts;
      bounceClassification = r.bounceClassification;
      egressPool = r.egressPool;
      egressSource = r.egressSource;
      sourceAddress = r.sourceAddress;
      meta = r.meta;
      headers = r.headers;
      deliveryProtocol = r.deliveryProtocol;
      receptionProtocol = r.receptionProtocol;
      nodeId = r.nodeId;
      nodeName = r.nodeName;
      tlsCipher = r.tlsCipher;
      tlsProtocolVersion = r.tlsProtocolVersion;
      tlsPeerSubjectName = r.tlsPeerSubjectName;
      sessionId = r.sessionId;
      tenant = r.tenant;
      campaign = r.campaign;
      feedbackReport = r.feedbackReport;
    }

    public Builder type(EventType value) {
      type = value;
      return this;
    }

    public Builder id(String value) {
      id = value;
      return this;
    }

    public Builder sender(String value) {
      sender = value;
      return this;
    }

    public Builder recipient(String value) {
      recipient = value;
      return this;
    }

    public Builder queue(String value) {
      queue = value;
      return this;
    }

    public Builder site(String value) {
      site = value;
      return this;
    }

    public Builder size(long value) {
      size = value;
      return this;
    }

    public Builder response(Response value) {
      response = value;
      return this;
    }

    public Builder peerAddress(PeerAddress value) {
      peerAddress = value;
      return this;
    }

    public Builder timestamp(Instant value) {
      timestamp = value;
      return this;
    }

    public Builder created(Instant value) {
      created = value;
      return this;
    }

    public Builder numAttempts(int value) {
      numAttempts = value;
      return this;
    }

    public Builder bounceClassification(String value) {
      bounceClassification = value;
      return this;
    }

    public Builder egressPool(String value) {
      egressPool = value;
      return this;
    }

    public Builder egressSource(String value) {
      egressSource = value;
      return this;
    }

    public Builder sourceAddress(String value) {
      sourceAddress = value;
      return this;
    }

    public Builder meta(Map<String, String> value) {
      meta = value;
      return this;
    }

    public Builder headers(Map<String, String> value) {
      headers = value;
      return this;
    }

    public Builder deliveryProtocol(String value) {
      deliveryProtocol = value;
      return this;
    }

    public Builder receptionProtocol(String value) {
      receptionProtocol = value;
      return this;
    }

    public Builder nodeId(String value) {
      nodeId = value;
      return this;
    }

    public Builder nodeName(String value) {
      nodeName = value;
      return this;
    }

    public Builder tlsCipher(String value) {
      tlsCipher = value;
      return this;
    }

    public Builder tlsProtocolVersion(String value) {
      tlsProtocolVersion = value;
      return this;
    }

    public Builder tlsPeerSubjectName(List<String> value) {
      tlsPeerSubjectName = value;
      return this;
    }

    public Builder sessionId(String value) {
      sessionId = value;
      return this;
    }

    public Builder tenant(String value) {
      tenant = value;
      return this;
    }

    public Builder campaign(String value) {
      campaign = value;
      return this;
    }

    public Builder feedbackReport(Map<String, Object> value) {
      feedbackReport = value;
      return this;
    }

    public EventRecord build() {
      return new EventRecord(
          type,
          id,
          sender,
          recipient,
          queue,
          site,
          size,
          response,
          peerAddress,
          timestamp,
          created,
          numAttempts,
          bounceClassification,
          egressPool,
          egressSource,
          sourceAddress,
          meta,
          headers,
          deliveryProtocol,
          receptionProtocol,
          nodeId,
          nodeName,
          tlsCipher,
          tlsProtocolVersion,
          tlsPeerSubjectName,
          sessionId,
          tenant,
          campaign,
          feedbackReport);
    }
  }
}
