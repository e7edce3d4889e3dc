package org.postilion.queue.manager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
import org.postilion.api.delivery.PeerAddress;
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

    @AttributeDefinition(description = "Threads that hand mail to the delivery protocols")
    int delivery__threads() default 32;

    @AttributeDefinition(description = "Delivery attempts in progress at once, over all queues")
    int max__in__flight() default 10_000;
  }

  private final Clock clock;
  private final Scheduler scheduler;
  private final Map<String, DeliveryProtocol> protocols = new ConcurrentHashMap<>();
  private final Map<String, List<Batch>> parked = new ConcurrentHashMap<>();
  private final Set<String> warnedMissing = ConcurrentHashMap.newKeySet();

  /** How long dispatching pauses after a configuration went away. */
  private static final Duration SETTLE_AFTER_REMOVAL = Duration.ofSeconds(2);

  private volatile Instant settleUntil;
  private final List<QueueDefinition> definitions = new CopyOnWriteArrayList<>();
  private final List<EventListener> listeners = new CopyOnWriteArrayList<>();

  @Reference private Spool spool;

  private String tenantHeader;
  private String campaignHeader;
  private Semaphore inFlight;
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
    inFlight = new Semaphore(Math.max(1, config.max__in__flight()));
    AtomicInteger workerNumber = new AtomicInteger();
    workers =
        Executors.newFixedThreadPool(
            threads,
            task -> new Thread(task, "postilion-delivery-" + workerNumber.incrementAndGet()));
    List<QueueEntry> queued = new ArrayList<>();
    spool.forEachQueued(queued::add);
    groupIntoBatches(queued).forEach(scheduler::add);
    LOG.info("Queue manager started with {} queued recipients from the spool", queued.size());
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
      LOG.warn("Deliveries still starting after 30 s; their messages stay queued");
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
      policyOption = ReferencePolicyOption.GREEDY,
      updated = "updatedDefinition")
  void addDefinition(QueueDefinition definition) {
    definitions.add(definition);
    releaseAllParked();
  }

  void updatedDefinition(QueueDefinition definition) {
    releaseAllParked();
  }

  /**
   * A configuration went away: its file was deleted, or the bundle is stopping and the other
   * configurations go too. Mail is held for a moment rather than sent by whatever rules remain.
   */
  void removeDefinition(QueueDefinition definition) {
    settleUntil = Instant.now(clock).plus(SETTLE_AFTER_REMOVAL);
    definitions.remove(definition);
    parked.keySet().forEach(protocol -> releaseParked(protocol, settleUntil));
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
    PeerAddress client = new PeerAddress(null, submission.peerAddress());
    for (QueueEntry entry : entries) {
      emit(EventType.RECEPTION, message, entry, null, client, 0, null, null, null);
    }
    groupIntoBatches(entries).forEach(scheduler::add);
    return id;
  }

  /** Entries of the same message, queue, due time and attempt count travel together. */
  private static Collection<Batch> groupIntoBatches(List<QueueEntry> entries) {
    Map<List<Object>, List<QueueEntry>> groups = new LinkedHashMap<>();
    for (QueueEntry entry : entries) {
      List<Object> key =
          List.of(entry.key().messageId(), entry.queue(), entry.due(), entry.attempts());
      groups.computeIfAbsent(key, k -> new ArrayList<>()).add(entry);
    }
    return groups.values().stream().map(Batch::of).toList();
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
        Batch batch = scheduler.takeDue();
        if (batch == null) {
          return;
        }
        inFlight.acquire();
        if (!dispatch(batch)) {
          inFlight.release();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts delivery of a due batch; false when it was parked, held or ended instead. */
  private boolean dispatch(Batch batch) {
    Instant settle = settleUntil;
    if (settle != null && Instant.now(clock).isBefore(settle)) {
      scheduler.add(batch.dueAt(settle));
      return false;
    }
    QueueName queue = QueueName.parse(batch.queue());
    QueueConfig config = configFor(queue);
    if (!Instant.now(clock).isBefore(batch.created().plus(config.maxAge()))) {
      expire(batch, config);
      return false;
    }
    DeliveryProtocol protocol = protocols.get(config.protocol());
    if (protocol == null) {
      park(config.protocol(), batch);
      return false;
    }
    workers.execute(() -> startDelivery(batch, queue, config, protocol));
    return true;
  }

  QueueConfig configFor(QueueName queue) {
    List<QueueRule> rules = new ArrayList<>(definitions.size());
    for (QueueDefinition definition : definitions) {
      rules.add(definition.rule());
    }
    return QueueRules.resolve(rules, queue);
  }

  private void park(String protocolName, Batch batch) {
    List<Batch> waiting = parked.computeIfAbsent(protocolName, k -> new ArrayList<>());
    boolean releaseNow;
    synchronized (waiting) {
      waiting.add(batch);
      // The protocol may have registered between the lookup and the parking.
      releaseNow = protocols.containsKey(protocolName);
    }
    if (releaseNow) {
      releaseParked(protocolName);
    } else if (warnedMissing.add(protocolName)) {
      LOG.warn(
          "No delivery protocol '{}' is installed; queue {} and any other that needs it wait",
          protocolName,
          batch.queue());
    }
  }

  private void releaseParked(String protocolName) {
    releaseParked(protocolName, null);
  }

  /** Schedules the parked batches again, at {@code due} or when each was due. */
  private void releaseParked(String protocolName, Instant due) {
    List<Batch> waiting = parked.get(protocolName);
    if (waiting == null) {
      return;
    }
    List<Batch> released;
    synchronized (waiting) {
      released = new ArrayList<>(waiting);
      waiting.clear();
    }
    if (!released.isEmpty()) {
      LOG.info(
          "Releasing {} messages that waited for protocol '{}'", released.size(), protocolName);
    }
    for (Batch batch : released) {
      scheduler.add(due == null ? batch : batch.dueAt(due));
    }
  }

  /** A changed configuration may send parked queues to another protocol: look at them again. */
  private void releaseAllParked() {
    parked.keySet().forEach(this::releaseParked);
  }

  /** Runs on a worker: hands the batch to the protocol and books the outcome when it comes. */
  private void startDelivery(
      Batch batch, QueueName queue, QueueConfig config, DeliveryProtocol protocol) {
    try {
      MessageRecord message = spool.message(batch.messageId()).orElse(null);
      if (message == null) {
        LOG.warn("Message {} is no longer in the spool; dropping its schedule", batch.messageId());
        inFlight.release();
        return;
      }
      int attempt = batch.attempts() + 1;
      DeliveryRequest request =
          new DeliveryRequest(
              message.id(),
              message.sender(),
              batch.recipients(),
              queue,
              config,
              attempt,
              new SpooledContent(message));
      CompletionStage<DeliveryResult> outcome;
      try {
        outcome = protocol.deliver(request);
      } catch (RuntimeException e) {
        outcome = CompletableFuture.failedFuture(e);
      }
      outcome.whenComplete(
          (result, failure) -> {
            try {
              complete(batch, message, config, attempt, request, result, failure);
            } catch (RuntimeException e) {
              LOG.error(
                  "Recording the outcome for {} failed; it stays queued", batch.messageId(), e);
              scheduler.add(
                  Batch.retry(
                      batch.entries(), Instant.now(clock).plusSeconds(60), batch.attempts()));
            } finally {
              inFlight.release();
            }
          });
    } catch (RuntimeException e) {
      LOG.error("Delivery of {} could not start; it stays queued", batch.messageId(), e);
      scheduler.add(
          Batch.retry(batch.entries(), Instant.now(clock).plusSeconds(60), batch.attempts()));
      inFlight.release();
    }
  }

  private void complete(
      Batch batch,
      MessageRecord message,
      QueueConfig config,
      int attempt,
      DeliveryRequest request,
      DeliveryResult result,
      Throwable failure) {
    if (failure != null || result == null) {
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      LOG.debug("Delivery of {} through {} failed", batch.messageId(), config.protocol(), cause);
      Response response =
          Response.of(451, "4.3.0", "protocol " + config.protocol() + " failed: " + cause);
      result = DeliveryResult.forAll(request, Disposition.TRANSIENT_FAILURE, response, null);
    }
    List<QueueEntry> failed = new ArrayList<>();
    Response lastTransient = null;
    for (QueueEntry entry : batch.entries()) {
      RecipientResult outcome = resultFor(result, entry, config);
      switch (outcome.disposition()) {
        case DELIVERED -> {
          spool.remove(entry.key());
          emit(EventType.DELIVERY, message, entry, outcome.response(), result, attempt, config);
        }
        case PERMANENT_FAILURE -> {
          spool.remove(entry.key());
          emit(EventType.BOUNCE, message, entry, outcome.response(), result, attempt, config);
          LOG.info("{} to {} bounced: {}", message.id(), entry.recipient(), outcome.response());
        }
        case TRANSIENT_FAILURE -> {
          emit(
              EventType.TRANSIENT_FAILURE,
              message,
              entry,
              outcome.response(),
              result,
              attempt,
              config);
          failed.add(entry);
          lastTransient = outcome.response();
        }
      }
    }
    if (failed.isEmpty()) {
      return;
    }
    Instant next = Instant.now(clock).plus(config.retry().delayAfter(attempt));
    Batch retry = Batch.retry(failed, next, attempt);
    if (!next.isBefore(batch.created().plus(config.maxAge()))) {
      expire(retry, config);
      return;
    }
    for (QueueEntry entry : failed) {
      spool.reschedule(entry.key(), next, attempt, lastTransient.toString());
    }
    scheduler.add(retry);
  }

  /** The result for one entry; a protocol that left a recipient out gets a transient failure. */
  private static RecipientResult resultFor(
      DeliveryResult result, QueueEntry entry, QueueConfig config) {
    for (RecipientResult candidate : result.recipients()) {
      if (candidate.recipient().equals(entry.recipient())) {
        return candidate;
      }
    }
    return new RecipientResult(
        entry.recipient(),
        Disposition.TRANSIENT_FAILURE,
        Response.of(451, "4.3.0", "protocol " + config.protocol() + " gave no result"));
  }

  private void expire(Batch batch, QueueConfig config) {
    MessageRecord message = spool.message(batch.messageId()).orElse(null);
    Response response =
        Response.of(551, "5.4.7", "message expired after " + config.maxAge() + " in the queue");
    for (QueueEntry entry : batch.entries()) {
      spool.remove(entry.key());
      if (message != null) {
        emit(EventType.EXPIRATION, message, entry, response, null, entry.attempts(), config);
      }
    }
  }

  private void emit(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      DeliveryResult result,
      int attempts,
      QueueConfig config) {
    emit(
        type,
        message,
        entry,
        response,
        result == null ? null : result.peer(),
        attempts,
        config,
        result == null ? null : result.tlsProtocol(),
        result == null ? null : result.tlsCipher());
  }

  private void emit(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      PeerAddress peer,
      int attempts,
      QueueConfig config,
      String tlsProtocol,
      String tlsCipher) {
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
            message.receptionProtocol(),
            tlsProtocol,
            tlsCipher);
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
