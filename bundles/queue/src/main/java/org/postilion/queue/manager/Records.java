package org.postilion.queue.manager;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.queue.bus.EventBus;

/** Makes the event records of the queue manager and puts them on the bus. */
final class Records {
  private final EventBus bus;
  private final Clock clock;

  Records(EventBus bus, Clock clock) {
    this.bus = bus;
    this.clock = clock;
  }

  void publish(EventRecord record) {
    bus.publish(record);
  }

  /** A record of an attempt's outcome for one recipient. */
  void attempt(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      DeliveryResult result,
      int attempts,
      String protocol,
      String site) {
    publish(
        of(
            type,
            message,
            entry,
            response,
            result == null ? null : result.peer(),
            attempts,
            protocol,
            site,
            result == null ? null : result.tlsProtocol(),
            result == null ? null : result.tlsCipher(),
            Map.of()));
  }

  /** A record of mail that ended without an attempt: expired, bounced by an operator. */
  void ended(
      EventType type, MessageRecord message, QueueEntry entry, Response response, String protocol) {
    publish(
        of(
            type,
            message,
            entry,
            response,
            null,
            entry.attempts(),
            protocol,
            null,
            null,
            null,
            Map.of()));
  }

  EventRecord of(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      PeerAddress peer,
      int attempts,
      String protocol,
      String site,
      String tlsProtocol,
      String tlsCipher,
      Map<String, String> meta) {
    return new EventRecord(
        type,
        message.id(),
        message.sender(),
        entry.recipient(),
        entry.queue(),
        site,
        message.size(),
        response,
        peer,
        Instant.now(clock),
        message.created(),
        attempts,
        message.tenant(),
        message.campaign(),
        protocol,
        message.receptionProtocol(),
        tlsProtocol,
        tlsCipher,
        meta);
  }
}
