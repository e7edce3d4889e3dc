package org.postilion.queue.manager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.MessageDetails;
import org.postilion.api.admin.ProtocolStatus;
import org.postilion.api.admin.QueueSummary;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.admin.Selector;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.queue.QueueName;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the operator sees of the queues: the summary, the list of queued recipients, one message,
 * the protocols. Read from memory (the spool only for one message's details), so it answers at once
 * however many messages wait and whatever a site does.
 */
final class Inspection {
  private static final Logger LOG = LoggerFactory.getLogger(Inspection.class);
  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final Scheduler scheduler;
  private final Parking parking;
  private final ReadyQueues ready;
  private final InFlight inFlight;
  private final QueueConfigs configs;
  private final AdminActions actions;
  private final Spool spool;
  private final Function<String, String> providers;
  private final java.util.function.Supplier<Set<String>> protocolNames;
  private final Function<String, List<ProtocolKey>> protocolKeys;

  Inspection(
      Scheduler scheduler,
      Parking parking,
      ReadyQueues ready,
      InFlight inFlight,
      QueueConfigs configs,
      AdminActions actions,
      Spool spool,
      Function<String, String> providers,
      java.util.function.Supplier<Set<String>> protocolNames,
      Function<String, List<ProtocolKey>> protocolKeys) {
    this.scheduler = scheduler;
    this.parking = parking;
    this.ready = ready;
    this.inFlight = inFlight;
    this.configs = configs;
    this.actions = actions;
    this.spool = spool;
    this.providers = providers;
    this.protocolNames = protocolNames;
    this.protocolKeys = protocolKeys;
  }

  /** Shows {@code visitor} every batch the queue manager holds and the state it is in. */
  void forEachBatch(java.util.function.BiConsumer<Batch, String> visitor) {
    scheduler.forEach(batch -> visitor.accept(batch, "scheduled"));
    parking.forEach(visitor);
    Set<Batch> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    ready.forEach(
        (delivery, state) -> {
          seen.add(delivery.batch());
          visitor.accept(delivery.batch(), state);
        });
    inFlight.forEach(
        batch -> {
          if (!seen.contains(batch)) {
            visitor.accept(batch, "routing");
          }
        });
  }

  QueueSummary summary() {
    QueueStatistics statistics = new QueueStatistics();
    forEachBatch(statistics::add);
    List<ScheduledQueueStatus> scheduled =
        statistics.statuses(
            queue -> configs.now(queue).protocol(),
            queue -> actions.actionFor(AdminAction.Kind.SUSPEND, queue) != null);
    return new QueueSummary(scheduled, ready.statuses());
  }

  List<QueuedRecipient> list(Selector selector, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("the limit must be at least 1");
    }
    List<QueuedRecipient> found = new ArrayList<>();
    forEachBatch(
        (batch, state) -> {
          if (selector == null || selector.matches(QueueName.parse(batch.queue()))) {
            for (String recipient : batch.recipients()) {
              found.add(
                  new QueuedRecipient(
                      batch.messageId(),
                      recipient,
                      batch.queue(),
                      batch.created(),
                      batch.due(),
                      batch.attempts(),
                      state,
                      null));
            }
          }
        });
    found.sort(
        Comparator.comparing(QueuedRecipient::created).thenComparing(QueuedRecipient::messageId));
    return found.size() > limit ? List.copyOf(found.subList(0, limit)) : found;
  }

  Optional<MessageDetails> message(String messageId) {
    if (messageId == null || messageId.isBlank()) {
      throw new IllegalArgumentException("name a message id");
    }
    String id = messageId.trim();
    Optional<MessageRecord> found = spool.message(id);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    MessageRecord message = found.get();
    Map<String, String> states = new HashMap<>();
    forEachBatch(
        (batch, state) -> {
          if (batch.messageId().equals(id)) {
            batch.recipients().forEach(r -> states.put(r, state));
          }
        });
    List<QueuedRecipient> recipients = new ArrayList<>();
    for (Spool.StoredEntry stored : spool.entries(id)) {
      QueueEntry entry = stored.entry();
      recipients.add(
          new QueuedRecipient(
              id,
              entry.recipient(),
              entry.queue(),
              entry.created(),
              entry.due(),
              entry.attempts(),
              states.getOrDefault(entry.recipient(), "scheduled"),
              stored.lastResponse()));
    }
    return Optional.of(
        new MessageDetails(
            id,
            message.sender(),
            message.created(),
            message.size(),
            message.tenant(),
            message.campaign(),
            message.receptionProtocol(),
            recipients,
            headerSection(id)));
  }

  /** The header section as stored, up to the blank line (or the first 64 KiB of it). */
  private String headerSection(String messageId) {
    try (InputStream in = spool.openContent(messageId)) {
      byte[] head = in.readNBytes(MAX_HEADER_BYTES);
      int end = HeaderSection.parse(head).end();
      return new String(head, 0, end, StandardCharsets.UTF_8);
    } catch (IOException | SpoolException e) {
      LOG.warn("Could not read the headers of {}", messageId, e);
      return "";
    }
  }

  List<ProtocolStatus> protocols() {
    Map<String, List<String>> queuesByProtocol = new TreeMap<>();
    Set<String> queues = new TreeSet<>();
    forEachBatch((batch, state) -> queues.add(batch.queue()));
    for (String queue : queues) {
      String protocol = configs.now(QueueName.parse(queue)).protocol();
      queuesByProtocol.computeIfAbsent(protocol, k -> new ArrayList<>()).add(queue);
    }
    protocolNames.get().forEach(name -> queuesByProtocol.computeIfAbsent(name, k -> List.of()));
    List<ProtocolStatus> statuses = new ArrayList<>();
    queuesByProtocol.forEach(
        (name, names) ->
            statuses.add(
                new ProtocolStatus(name, providers.apply(name), names, protocolKeys.apply(name))));
    return statuses;
  }
}
