package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.postilion.api.bounce.BounceClassifier;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.queue.bus.EventBus;

/** Makes the event records of the queue manager, in KumoMTA's shape, and puts them on the bus. */
final class Records {
  /** Where an attempt went and over what: what its records say besides the outcome. */
  record Path(String site, String egressSource, String sessionId) {
    static final Path NOWHERE = new Path(null, null, null);
  }

  private final EventBus bus;
  private final Clock clock;
  private final String nodeId;
  private final Supplier<String> nodeName;
  private final UnaryOperator<String> protocolNames;
  private final Supplier<BounceClassifier> classifier;

  /** The records whose failure gets a bounce class, as KumoMTA's do. */
  private static final Set<EventType> CLASSIFIED =
      EnumSet.of(
          EventType.BOUNCE,
          EventType.TRANSIENT_FAILURE,
          EventType.EXPIRATION,
          EventType.ADMIN_BOUNCE);

  /**
   * @param nodeId this node's id, in every record
   * @param nodeName this node's name now (its cluster's {@code node.name}, else its host name)
   * @param protocolNames a protocol's name in records ({@code smtp} is KumoMTA's {@code ESMTP})
   * @param classifier the bounce classifier in force, or {@code null} when there is none
   */
  Records(
      EventBus bus,
      Clock clock,
      String nodeId,
      Supplier<String> nodeName,
      UnaryOperator<String> protocolNames,
      Supplier<BounceClassifier> classifier) {
    this.bus = bus;
    this.clock = clock;
    this.nodeId = nodeId;
    this.nodeName = nodeName;
    this.protocolNames = protocolNames;
    this.classifier = classifier;
  }

  private String classify(EventType type, Response response) {
    if (response == null || !CLASSIFIED.contains(type)) {
      return null;
    }
    BounceClassifier current = classifier.get();
    return current == null ? null : current.classify(response);
  }

  void publish(EventRecord record) {
    bus.publish(record);
  }

  /** A record made elsewhere (a report read), with this node's id. */
  EventRecord withNode(EventRecord record) {
    return record.toBuilder().nodeId(nodeId).nodeName(nodeName.get()).build();
  }

  /** What every record of a spooled message and one of its recipients says. */
  EventRecord.Builder of(EventType type, MessageRecord message, QueueEntry entry) {
    return EventRecord.builder(type)
        .id(message.id())
        .sender(message.sender())
        .recipient(entry.recipient())
        .queue(entry.queue())
        .size(message.size())
        .timestamp(Instant.now(clock))
        .created(message.created())
        .numAttempts(entry.attempts())
        .tenant(message.tenant())
        .campaign(message.campaign())
        .receptionProtocol(message.receptionProtocol())
        .headers(message.logHeaders())
        .meta(message.logMeta())
        .nodeId(nodeId)
        .nodeName(nodeName.get());
  }

  /** The outcome of an attempt for one recipient. */
  EventRecord attempt(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      DeliveryResult result,
      int attempts,
      QueueConfig config,
      Path path) {
    return of(type, message, entry)
        .response(response)
        .bounceClassification(classify(type, response))
        .peerAddress(result.peer())
        .numAttempts(attempts)
        .site(path.site())
        .egressPool(pool(config))
        .egressSource(path.egressSource())
        .sessionId(path.sessionId())
        .sourceAddress(result.sourceAddress())
        .deliveryProtocol(protocolNames.apply(config.protocol()))
        .tlsProtocolVersion(result.tlsProtocol())
        .tlsCipher(result.tlsCipher())
        .tlsPeerSubjectName(result.tlsPeerSubjectName())
        .build();
  }

  /** Mail that ended, or moved, without an attempt: expired, bounced or rebound by an operator. */
  EventRecord ended(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      QueueConfig config) {
    return of(type, message, entry)
        .response(response)
        .bounceClassification(classify(type, response))
        .egressPool(config == null ? null : pool(config))
        .deliveryProtocol(config == null ? null : protocolNames.apply(config.protocol()))
        .build();
  }

  /** A message accepted or refused at reception, as its client sent it. */
  EventRecord received(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      ReceivedMessage received) {
    Submission submission = received.submission();
    return of(type, message, entry)
        .response(response)
        .peerAddress(client(submission.heloName(), submission.peerAddress()))
        .numAttempts(0)
        .tlsProtocolVersion(submission.tlsProtocol())
        .tlsCipher(submission.tlsCipher())
        .sessionId(submission.sessionId())
        .meta(received.meta())
        .build();
  }

  /** A client or command a listener refused, for one recipient (or none). */
  EventRecord refused(Refusal refusal, String recipient, Map<String, String> meta) {
    return EventRecord.builder(EventType.REJECTION)
        .sender(refusal.sender())
        .recipient(recipient)
        .response(refusal.response())
        .peerAddress(client(refusal.heloName(), refusal.clientAddress()))
        .timestamp(Instant.now(clock))
        .receptionProtocol(refusal.receptionProtocol())
        .sessionId(refusal.sessionId())
        .nodeId(nodeId)
        .nodeName(nodeName.get())
        .meta(meta)
        .build();
  }

  /** KumoMTA's name for the pool of mail whose queue names none is {@code unspecified}. */
  private static String pool(QueueConfig config) {
    return config.egressPool() == null ? EgressSource.UNSPECIFIED.name() : config.egressPool();
  }

  private static PeerAddress client(String heloName, String address) {
    return new PeerAddress(heloName, address);
  }
}
