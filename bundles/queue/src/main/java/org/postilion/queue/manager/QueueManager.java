package org.postilion.queue.manager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.message.Addresses;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.postilion.queue.QueueDefinition;
import org.postilion.queue.QueueRule;
import org.postilion.queue.QueueRules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names each recipient's scheduled queue, spools messages, and hands due entries to the delivery
 * protocol their queue configuration names, retrying transient failures on the queue's schedule.
 *
 * <p>An entry whose protocol has no service waits, parked, until one registers: it is neither
 * bounced nor lost. Queue configurations are looked up at each attempt, so a changed cfg file
 * applies to mail already queued.
 */
@Component(
    service = Reception.class,
    immediate = true,
    configurationPid = "org.postilion.queue.manager")
@Designate(ocd = QueueManager.Config.class)
public class QueueManager implements Reception {
  private static final Logger LOG = LoggerFactory.getLogger(QueueManager.class);

  @ObjectClassDefinition(
      name = "Postilion queue manager",
      description = "Queue naming and the delivery worker pool")
  public @interface Config {
    @AttributeDefinition(description = "Header that names the tenant; removed before delivery")
    String tenant__header() default "X-Tenant";

    @AttributeDefinition(description = "Header that names the campaign; removed before delivery")
    String campaign__header() default "X-Campaign";

    @AttributeDefinition(description = "Deliveries in progress at once, over all queues")
    int delivery__threads() default 32;
  }

  private final Clock clock;
  private final Scheduler scheduler;
  private final Map<String, DeliveryProtocol> protocols = new ConcurrentHashMap<>();
  private final Map<String, List<QueueEntry>> parked = new ConcurrentHashMap<>();
  private final Set<String> warnedMissing = ConcurrentHashMap.newKeySet();
  private final List<QueueDefinition> definitions = new CopyOnWriteArrayList<>();
  private final List<EventListener> listeners = new CopyOnWriteArrayList<>();

  @Reference private Spool spool;

  private String tenantHeader;
  private String campaignHeader;
  private Semaphore deliverySlots;
  private ExecutorService workers;
  private Thread dispatcher;

  public QueueManager() {
    this(Clock.systemUTC());
  }

  QueueManager(Clock clock) {
    this.clock = clock;
    this.scheduler = new Scheduler(clock);
  }

  @Activate
  void activate(Config config) {
    tenantHeader = config.tenant__header().trim().toLowerCase(Locale.ROOT);
    campaignHeader = config.campaign__header().trim().toLowerCase(Locale.ROOT);
    int threads = Math.max(1, config.delivery__threads());
    deliverySlots = new Semaphore(threads);
    AtomicInteger workerNumber = new AtomicInteger();
    workers =
        Executors.newFixedThreadPool(
            threads,
            task -> new Thread(task, "postilion-delivery-" + workerNumber.incrementAndGet()));
    AtomicInteger loaded = new AtomicInteger();
    spool.forEachQueued(
        entry -> {
          scheduler.add(entry);
          loaded.incrementAndGet();
        });
    LOG.info("Queue manager started with {} queued recipients from the spool", loaded.get());
    dispatcher = new Thread(this::dispatchLoop, "postilion-dispatcher");
    dispatcher.start();
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    scheduler.close();
    dispatcher.interrupt();
    dispatcher.join(TimeUnit.SECONDS.toMillis(10));
    workers.shutdownNow();
    if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
      LOG.warn("Deliveries still running after 30 s; their messages stay queued");
    }
  }

  // --- references -----------------------------------------------------------------------------

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addProtocol(DeliveryProtocol protocol, Map<String, Object> properties) {
    Object name = properties.get(DeliveryProtocol.PROTOCOL);
    if (name == null) {
      LOG.warn(
          "Ignoring a delivery protocol service without a '{}' property",
          DeliveryProtocol.PROTOCOL);
      return;
    }
    protocols.put(name.toString(), protocol);
    warnedMissing.remove(name.toString());
    LOG.info("Delivery protocol '{}' is available", name);
    releaseParked(name.toString());
  }

  void removeProtocol(DeliveryProtocol protocol, Map<String, Object> properties) {
    Object name = properties.get(DeliveryProtocol.PROTOCOL);
    if (name != null && protocols.remove(name.toString(), protocol)) {
      LOG.info("Delivery protocol '{}' went away; its queues wait for it", name);
    }
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addDefinition(QueueDefinition definition) {
    definitions.add(definition);
    releaseAllParked();
  }

  void removeDefinition(QueueDefinition definition) {
    definitions.remove(definition);
    releaseAllParked();
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addListener(EventListener listener) {
    listeners.add(listener);
  }

  void removeListener(EventListener listener) {
    listeners.remove(listener);
  }

  // --- reception --------------------------------------------------------------------------------

  @Override
  public String receive(Submission submission) throws ReceptionException {
    if (submission.recipients().isEmpty()) {
      throw new ReceptionException(Response.of(554, "5.5.1", "no valid recipients"));
    }
    HeaderEditor.Result edited =
        HeaderEditor.remove(submission.content(), Set.of(tenantHeader, campaignHeader));
    String tenant =
        submission.tenant() != null
            ? submission.tenant()
            : queueNamePart(edited.removed().get(tenantHeader));
    String campaign = queueNamePart(edited.removed().get(campaignHeader));
    byte[] content = edited.content();
    Instant now = Instant.now(clock);
    String id = MessageIds.next(now.toEpochMilli());
    List<QueueEntry> entries = new ArrayList<>();
    for (int i = 0; i < submission.recipients().size(); i++) {
      String recipient = submission.recipients().get(i);
      QueueName queue = QueueName.of(campaign, tenant, Addresses.domainOf(recipient));
      entries.add(new QueueEntry(new EntryKey(id, i), recipient, queue.toString(), now, now, 0));
    }
    MessageRecord message =
        new MessageRecord(
            id,
            submission.sender(),
            now,
            content.length,
            tenant,
            campaign,
            submission.receptionProtocol());
    try {
      spool.store(message, entries, new ByteArrayInputStream(content));
    } catch (SpoolException e) {
      LOG.error("Could not spool a message from {}", submission.peerAddress(), e);
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot queue the message now, try again later"), e);
    }
    for (QueueEntry entry : entries) {
      emit(EventType.RECEPTION, message, entry, null, submission.peerAddress(), 0, null);
      scheduler.add(entry);
    }
    return id;
  }

  /** Tenant and campaign become parts of a queue name, so they may not carry its separators. */
  private static String queueNamePart(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    return value.trim().replaceAll("[\\s:@]", "_");
  }

  // --- dispatch ---------------------------------------------------------------------------------

  private void dispatchLoop() {
    try {
      while (true) {
        QueueEntry entry = scheduler.takeDue();
        if (entry == null) {
          return;
        }
        deliverySlots.acquire();
        if (!dispatch(entry)) {
          deliverySlots.release();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts delivery of a due entry; false when it was parked or ended instead. */
  private boolean dispatch(QueueEntry entry) {
    QueueName queue = QueueName.parse(entry.queue());
    QueueConfig config = configFor(queue);
    if (isExpired(entry, config)) {
      expire(entry, config);
      return false;
    }
    DeliveryProtocol protocol = protocols.get(config.protocol());
    if (protocol == null) {
      park(config.protocol(), entry);
      return false;
    }
    workers.execute(
        () -> {
          try {
            deliver(entry, queue, config, protocol);
          } catch (RuntimeException e) {
            LOG.error("Delivery of {} failed unexpectedly; it stays queued", entry.key(), e);
            scheduler.add(entry.withRetry(Instant.now(clock).plusSeconds(60), entry.attempts()));
          } finally {
            deliverySlots.release();
          }
        });
    return true;
  }

  QueueConfig configFor(QueueName queue) {
    List<QueueRule> rules = new ArrayList<>(definitions.size());
    for (QueueDefinition definition : definitions) {
      rules.add(definition.rule());
    }
    return QueueRules.resolve(rules, queue);
  }

  private boolean isExpired(QueueEntry entry, QueueConfig config) {
    return !Instant.now(clock).isBefore(entry.created().plus(config.maxAge()));
  }

  private void park(String protocolName, QueueEntry entry) {
    List<QueueEntry> waiting = parked.computeIfAbsent(protocolName, k -> new ArrayList<>());
    boolean releaseNow;
    synchronized (waiting) {
      waiting.add(entry);
      // The protocol may have registered between the lookup and the parking.
      releaseNow = protocols.containsKey(protocolName);
    }
    if (releaseNow) {
      releaseParked(protocolName);
    } else if (warnedMissing.add(protocolName)) {
      LOG.warn(
          "No delivery protocol '{}' is installed; queue {} and any other that needs it wait",
          protocolName,
          entry.queue());
    }
  }

  private void releaseParked(String protocolName) {
    List<QueueEntry> waiting = parked.get(protocolName);
    if (waiting == null) {
      return;
    }
    List<QueueEntry> released;
    synchronized (waiting) {
      released = new ArrayList<>(waiting);
      waiting.clear();
    }
    if (!released.isEmpty()) {
      LOG.info(
          "Releasing {} recipients that waited for protocol '{}'", released.size(), protocolName);
    }
    released.forEach(scheduler::add);
  }

  /** A changed configuration may send parked queues to another protocol: look at them again. */
  private void releaseAllParked() {
    parked.keySet().forEach(this::releaseParked);
  }

  private void deliver(
      QueueEntry entry, QueueName queue, QueueConfig config, DeliveryProtocol protocol) {
    MessageRecord message = spool.message(entry.key().messageId()).orElse(null);
    if (message == null) {
      LOG.warn("Message {} is no longer in the spool; dropping its schedule", entry.key());
      return;
    }
    int attempt = entry.attempts() + 1;
    DeliveryRequest request =
        new DeliveryRequest(
            message.id(),
            message.sender(),
            List.of(entry.recipient()),
            queue,
            config,
            attempt,
            new SpooledContent(message));
    RecipientResult result;
    String peer = null;
    try {
      DeliveryResult outcome = protocol.deliver(request);
      peer = outcome.peer();
      result =
          outcome.recipients().stream()
              .filter(r -> r.recipient().equals(entry.recipient()))
              .findFirst()
              .orElse(
                  new RecipientResult(
                      entry.recipient(),
                      Disposition.TRANSIENT_FAILURE,
                      Response.of(
                          451, "4.3.0", "protocol " + config.protocol() + " gave no result")));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.info("Delivery of {} interrupted by shutdown; it stays queued", entry.key());
      return;
    } catch (Exception e) {
      LOG.debug("Delivery of {} through {} failed", entry.key(), config.protocol(), e);
      result =
          new RecipientResult(
              entry.recipient(),
              Disposition.TRANSIENT_FAILURE,
              Response.of(451, "4.3.0", "protocol " + config.protocol() + " failed: " + e));
    }
    complete(entry, message, config, attempt, result, peer);
  }

  private void complete(
      QueueEntry entry,
      MessageRecord message,
      QueueConfig config,
      int attempt,
      RecipientResult result,
      String peer) {
    switch (result.disposition()) {
      case DELIVERED -> {
        spool.remove(entry.key());
        emit(EventType.DELIVERY, message, entry, result.response(), peer, attempt, config);
      }
      case PERMANENT_FAILURE -> {
        spool.remove(entry.key());
        emit(EventType.BOUNCE, message, entry, result.response(), peer, attempt, config);
        LOG.info("{} to {} bounced: {}", message.id(), entry.recipient(), result.response());
      }
      case TRANSIENT_FAILURE -> {
        emit(EventType.TRANSIENT_FAILURE, message, entry, result.response(), peer, attempt, config);
        Instant next = Instant.now(clock).plus(config.retry().delayAfter(attempt));
        if (!next.isBefore(entry.created().plus(config.maxAge()))) {
          expire(entry.withRetry(next, attempt), config);
          return;
        }
        spool.reschedule(entry.key(), next, attempt, result.response().toString());
        scheduler.add(entry.withRetry(next, attempt));
      }
    }
  }

  private void expire(QueueEntry entry, QueueConfig config) {
    MessageRecord message = spool.message(entry.key().messageId()).orElse(null);
    spool.remove(entry.key());
    if (message != null) {
      Response response =
          Response.of(551, "5.4.7", "message expired after " + config.maxAge() + " in the queue");
      emit(EventType.EXPIRATION, message, entry, response, null, entry.attempts(), config);
    }
  }

  private void emit(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      String peer,
      int attempts,
      QueueConfig config) {
    EventRecord record =
        new EventRecord(
            type,
            message.id(),
            message.sender(),
            entry.recipient(),
            entry.queue(),
            null,
            message.size(),
            response,
            peer,
            Instant.now(clock),
            message.created(),
            attempts,
            message.tenant(),
            message.campaign(),
            config == null ? null : config.protocol(),
            message.receptionProtocol());
    for (EventListener listener : listeners) {
      try {
        listener.onEvent(record);
      } catch (RuntimeException e) {
        LOG.warn("Event listener {} failed on a {} record", listener, type.recordName(), e);
      }
    }
  }

  /** The bytes of a spooled message, read from the spool on each open. */
  private final class SpooledContent implements MessageContent {
    private final MessageRecord message;

    SpooledContent(MessageRecord message) {
      this.message = message;
    }

    @Override
    public InputStream open() throws IOException {
      try {
        return spool.openContent(message.id());
      } catch (SpoolException e) {
        throw new IOException(e.getMessage(), e);
      }
    }

    @Override
    public long size() {
      return message.size();
    }
  }
}
