package org.postilion.queue.manager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.osgi.framework.ServiceReference;
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
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.MessageDetails;
import org.postilion.api.admin.ProtocolStatus;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueCounts;
import org.postilion.api.admin.QueueSummary;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.admin.Selector;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.message.Addresses;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueConfigPolicy;
import org.postilion.api.queue.QueueName;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.ReceptionFilter;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.api.shaping.Throttle;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.postilion.queue.QueueDefinition;
import org.postilion.queue.QueueRule;
import org.postilion.queue.QueueRules;
import org.postilion.queue.egress.EgressRegistry;
import org.postilion.queue.reception.ReceptionBuffers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names each recipient's scheduled queue, spools messages, and hands due entries to the delivery
 * protocol their queue configuration names, retrying transient failures on the queue's schedule. It
 * is also the operator's hands on the queues ({@link QueueAdmin}).
 *
 * <p>A due batch is dispatched unless something holds it: an admin bounce ends it, a suspension
 * holds it until resumed, a missing protocol or egress pool parks it until one registers, and the
 * queue's own rate limit gives it a later slot. Queue configurations are looked up at each
 * dispatch, so a changed cfg file applies to mail already queued.
 */
@Component(
    service = {Reception.class, QueueAdmin.class},
    immediate = true,
    // The bean name of the admin service in Camel routes.
    property = "name=queueAdmin",
    configurationPid = "org.postilion.queue.manager")
@Designate(ocd = QueueManager.Config.class)
public class QueueManager implements Reception, QueueAdmin {
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

  /** How long dispatching pauses after a configuration went away. */
  private static final Duration SETTLE_AFTER_REMOVAL = Duration.ofSeconds(2);

  /** KumoMTA's default: an admin bounce also catches mail arriving in the next five minutes. */
  static final Duration DEFAULT_BOUNCE_DURATION = Duration.ofMinutes(5);

  private static final int MAX_HEADER_BYTES = 64 * 1024;

  private final Clock clock;
  private final Scheduler scheduler;
  private final Map<String, DeliveryProtocol> protocols = new ConcurrentHashMap<>();
  private final Map<String, String> protocolProviders = new ConcurrentHashMap<>();

  /** Batches waiting for something to be installed: "protocol:smtp", "pool:warm". */
  private final Map<String, List<Batch>> parked = new ConcurrentHashMap<>();

  /** Batches held by a suspension, by the suspension's id. */
  private final Map<String, List<Batch>> held = new ConcurrentHashMap<>();

  /** Guards holding and releasing against each other, so no batch is held after its release. */
  private final Object holdLock = new Object();

  private final Set<Batch> inDelivery = ConcurrentHashMap.newKeySet();
  private final QueueGauges gauges = new QueueGauges();
  private final Set<String> warnedMissing = ConcurrentHashMap.newKeySet();
  private final List<AdminAction> actions = new CopyOnWriteArrayList<>();
  private final Map<String, Throttle> queueThrottles = new ConcurrentHashMap<>();

  private volatile Instant settleUntil;
  private final List<QueueDefinition> definitions = new CopyOnWriteArrayList<>();
  private final List<EventListener> listeners = new CopyOnWriteArrayList<>();

  /** Replaced whole, never edited in place, so a message never sees a half-updated chain. */
  private volatile List<RankedFilter> filters = List.of();

  private final Object filterLock = new Object();

  @Reference private Spool spool;

  @Reference private ReceptionBuffers buffers;

  /** Replaced whole by Declarative Services as policies come and go. */
  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile List<QueueConfigPolicy> configPolicies;

  @Reference private EgressRegistry egress;

  private String tenantHeader;
  private String campaignHeader;
  private Semaphore inFlight;
  private ExecutorService workers;
  private ScheduledExecutorService timer;
  private Thread dispatcher;

  /** Mail that waited for an egress pool may go once pools or sources change. */
  private final Runnable egressChanged =
      () -> {
        warnedMissing.removeIf(reason -> reason.startsWith("pool:"));
        releaseParkedWhere(reason -> reason.startsWith("pool:"), null);
      };

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
    timer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "postilion-admin-timer");
              thread.setDaemon(true);
              return thread;
            });
    loadAdminActions();
    long start = System.nanoTime();
    int loaded = loadSchedule();
    LOG.info(
        "Queue manager started with {} queued recipients from the spool in {} ms",
        loaded,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    egress.onChange(egressChanged);
    dispatcher = new Thread(this::dispatchLoop, "postilion-dispatcher");
    dispatcher.start();
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    egress.removeChangeListener(egressChanged);
    scheduler.close();
    dispatcher.interrupt();
    dispatcher.join(TimeUnit.SECONDS.toMillis(10));
    timer.shutdownNow();
    workers.shutdownNow();
    if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
      LOG.warn("Deliveries still starting after 30 s; their messages stay queued");
    }
  }

  /** Reads the queued entries back; entries of one message due together become one batch. */
  private int loadSchedule() {
    List<QueueEntry> group = new ArrayList<>();
    int[] count = {0};
    spool.forEachQueued(
        entry -> {
          if (!group.isEmpty() && !sameBatch(group.get(0), entry)) {
            scheduler.add(Batch.of(group));
            group.clear();
          }
          group.add(entry);
          gauges.added(entry);
          count[0]++;
        });
    if (!group.isEmpty()) {
      scheduler.add(Batch.of(group));
    }
    return count[0];
  }

  private static boolean sameBatch(QueueEntry first, QueueEntry next) {
    return first.key().messageId().equals(next.key().messageId())
        && first.queue().equals(next.queue())
        && first.due().equals(next.due())
        && first.attempts() == next.attempts();
  }

  private void loadAdminActions() {
    Instant now = Instant.now(clock);
    for (AdminAction action : spool.adminActions()) {
      if (action.isExpired(now)) {
        spool.deleteAdminAction(action.id());
        continue;
      }
      actions.add(action);
      scheduleExpiry(action);
    }
    if (!actions.isEmpty()) {
      LOG.info("{} suspensions and bounces in force from before the restart", actions.size());
    }
  }

  // --- references -----------------------------------------------------------------------------

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addProtocol(ServiceReference<DeliveryProtocol> reference, DeliveryProtocol protocol) {
    Object name = reference.getProperty(DeliveryProtocol.PROTOCOL);
    if (name == null) {
      LOG.warn(
          "Ignoring a delivery protocol service without a '{}' property",
          DeliveryProtocol.PROTOCOL);
      return;
    }
    protocols.put(name.toString(), protocol);
    protocolProviders.put(
        name.toString(),
        reference.getBundle().getSymbolicName() + " " + reference.getBundle().getVersion());
    warnedMissing.remove("protocol:" + name);
    LOG.info("Delivery protocol '{}' is available", name);
    releaseParkedWhere(key -> key.equals("protocol:" + name), null);
  }

  void removeProtocol(ServiceReference<DeliveryProtocol> reference, DeliveryProtocol protocol) {
    Object name = reference.getProperty(DeliveryProtocol.PROTOCOL);
    if (name != null && protocols.remove(name.toString(), protocol)) {
      protocolProviders.remove(name.toString());
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
    releaseParkedWhere(key -> true, null);
  }

  void updatedDefinition(QueueDefinition definition) {
    warnedMissing.removeIf(reason -> reason.startsWith("config:"));
    releaseParkedWhere(key -> true, null);
  }

  /**
   * A configuration went away: its file was deleted, or the bundle is stopping and the other
   * configurations go too. Mail is held for a moment rather than sent by whatever rules remain.
   */
  void removeDefinition(QueueDefinition definition) {
    settleUntil = Instant.now(clock).plus(SETTLE_AFTER_REMOVAL);
    definitions.remove(definition);
    releaseParkedWhere(key -> true, settleUntil);
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
  public ContentBuffer buffer() throws ReceptionException {
    return buffers.buffer();
  }

  @Override
  public String receive(Submission submission) throws ReceptionException {
    if (submission.recipients().isEmpty()) {
      throw new ReceptionException(Response.of(554, "5.5.1", "no valid recipients"));
    }
    byte[] head = MessageHead.read(submission.content());
    HeaderEditor.Result edited = HeaderEditor.remove(head, Set.of(tenantHeader, campaignHeader));
    String tenant =
        queueNamePart(
            submission.tenant() != null ? submission.tenant() : edited.removed().get(tenantHeader));
    String campaign = queueNamePart(edited.removed().get(campaignHeader));
    Instant now = Instant.now(clock);
    String id = MessageIds.next(now.toEpochMilli());
    ReceivedMessage received =
        new ReceivedMessage(
            id,
            now,
            submission,
            edited.content(),
            MessageContent.from(submission.content(), head.length));
    received.tenant(tenant);
    received.campaign(campaign);
    PeerAddress client = new PeerAddress(submission.heloName(), submission.peerAddress());
    try {
      runFilters(received);
    } catch (ReceptionException e) {
      MessageRecord refused = messageRecord(received, tenant, campaign);
      // The records name each recipient's own queue, not one a failing filter chose.
      received.queue(null);
      for (QueueEntry entry : entries(received, id, now)) {
        emitAtReception(EventType.REJECTION, refused, entry, e.response(), client, received);
      }
      throw e;
    }
    // Filters (policy routes) may have chosen another tenant, campaign or queue.
    tenant = queueNamePart(received.tenant());
    campaign = queueNamePart(received.campaign());
    List<QueueEntry> entries;
    try {
      entries = entries(received, id, now);
    } catch (IllegalArgumentException e) {
      LOG.error("A reception filter chose an invalid queue for {}", id, e);
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot queue the message now, try again later"), e);
    }
    MessageRecord message = messageRecord(received, tenant, campaign);
    try {
      try (InputStream content = received.open()) {
        spool.store(message, entries, content);
      }
    } catch (IOException e) {
      LOG.error("Could not read a message from {} back", submission.peerAddress(), e);
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot queue the message now, try again later"), e);
    } catch (SpoolException e) {
      LOG.error("Could not spool a message from {}", submission.peerAddress(), e);
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot queue the message now, try again later"), e);
    }
    for (QueueEntry entry : entries) {
      gauges.added(entry);
      emitAtReception(EventType.RECEPTION, message, entry, null, client, received);
    }
    groupIntoBatches(entries).forEach(scheduler::add);
    return id;
  }

  /** One entry per recipient, in the queue a filter chose or the one its domain names. */
  private static List<QueueEntry> entries(ReceivedMessage received, String id, Instant now) {
    String tenant = queueNamePart(received.tenant());
    String campaign = queueNamePart(received.campaign());
    QueueName chosen = received.queue() == null ? null : QueueName.parse(received.queue());
    if (chosen != null
        && (!Objects.equals(chosen.tenant(), queueNamePart(chosen.tenant()))
            || !Objects.equals(chosen.campaign(), queueNamePart(chosen.campaign())))) {
      throw new IllegalArgumentException("unsafe tenant or campaign in queue " + chosen);
    }
    List<QueueEntry> entries = new ArrayList<>();
    List<String> recipients = received.submission().recipients();
    for (int i = 0; i < recipients.size(); i++) {
      String recipient = recipients.get(i);
      QueueName queue =
          chosen != null ? chosen : QueueName.of(campaign, tenant, Addresses.domainOf(recipient));
      entries.add(new QueueEntry(new EntryKey(id, i), recipient, queue.toString(), now, now, 0));
    }
    return entries;
  }

  @Override
  public void refused(Refusal refusal) {
    PeerAddress client = new PeerAddress(refusal.heloName(), refusal.clientAddress());
    Map<String, String> meta = Map.of("refusal", refusal.reason(), "listener", refusal.listener());
    List<String> recipients =
        refusal.recipients().isEmpty() ? Collections.singletonList(null) : refusal.recipients();
    for (String recipient : recipients) {
      publish(
          new EventRecord(
              EventType.REJECTION,
              null,
              refusal.sender(),
              recipient,
              null,
              null,
              0,
              refusal.response(),
              client,
              Instant.now(clock),
              null,
              0,
              null,
              null,
              null,
              refusal.receptionProtocol(),
              null,
              null,
              meta));
    }
  }

  private static MessageRecord messageRecord(
      ReceivedMessage received, String tenant, String campaign) {
    return new MessageRecord(
        received.id(),
        received.submission().sender(),
        received.receivedAt(),
        received.size(),
        tenant,
        campaign,
        received.submission().receptionProtocol());
  }

  /**
   * Hands the message to each reception filter in turn. A filter that fails unexpectedly refuses
   * the message temporarily: sending it on without, say, its signature would be worse.
   */
  private void runFilters(ReceivedMessage received) throws ReceptionException {
    for (RankedFilter ranked : filters) {
      try {
        ranked.filter().filter(received);
      } catch (RuntimeException e) {
        LOG.error("Reception filter {} failed on message {}", ranked.filter(), received.id(), e);
        throw new ReceptionException(
            Response.of(451, "4.3.0", "cannot process the message now, try again later"), e);
      }
    }
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addFilter(ReceptionFilter filter, Map<String, Object> properties) {
    Object order = properties.get(ReceptionFilter.ORDER);
    int rank = order instanceof Number n ? n.intValue() : ReceptionFilter.POLICY;
    long serviceId = ((Number) properties.get("service.id")).longValue();
    synchronized (filterLock) {
      List<RankedFilter> updated = new ArrayList<>(filters);
      updated.add(new RankedFilter(rank, serviceId, filter));
      updated.sort(RankedFilter.ORDER);
      filters = List.copyOf(updated);
    }
  }

  void removeFilter(ReceptionFilter filter) {
    synchronized (filterLock) {
      filters = filters.stream().filter(ranked -> ranked.filter() != filter).toList();
    }
  }

  /** A reception filter and where it runs. */
  private record RankedFilter(int order, long serviceId, ReceptionFilter filter) {
    static final Comparator<RankedFilter> ORDER =
        Comparator.comparingInt(RankedFilter::order).thenComparingLong(RankedFilter::serviceId);
  }

  /** A new message's entries, one batch per queue. */
  private static Collection<Batch> groupIntoBatches(List<QueueEntry> entries) {
    Map<String, List<QueueEntry>> groups = new LinkedHashMap<>();
    for (QueueEntry entry : entries) {
      groups.computeIfAbsent(entry.queue(), k -> new ArrayList<>()).add(entry);
    }
    return groups.values().stream().map(Batch::of).toList();
  }

  /**
   * Tenant and campaign become parts of a queue name and, through it, of file paths (maildir
   * templates) and metric labels: anything but letters, digits and {@code . _ + -} becomes {@code
   * _} and the length is capped, whoever chose the value (a header, a route, an API key).
   */
  static String queueNamePart(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String trimmed = value.trim();
    StringBuilder safe = new StringBuilder(Math.min(trimmed.length(), MAX_NAME_PART));
    for (int i = 0; i < trimmed.length() && safe.length() < MAX_NAME_PART; i++) {
      char c = trimmed.charAt(i);
      boolean plain =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '+'
              || c == '-';
      // A leading dot would make a hidden folder, or "..", of a maildir path part.
      boolean leadingDot = c == '.' && safe.chars().allMatch(d -> d == '_');
      safe.append(plain && !leadingDot ? c : '_');
    }
    return safe.toString();
  }

  private static final int MAX_NAME_PART = 64;

  // --- dispatch ---------------------------------------------------------------------------------

  private void dispatchLoop() {
    try {
      while (true) {
        Batch batch = scheduler.takeDue();
        if (batch == null) {
          return;
        }
        inFlight.acquire();
        boolean started = false;
        try {
          started = dispatch(batch);
        } catch (RuntimeException e) {
          LOG.error("Dispatching {} failed; it stays queued", batch, e);
          scheduler.add(batch.dueAt(Instant.now(clock).plusSeconds(60)));
        } finally {
          if (!started) {
            inFlight.release();
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts delivery of a due batch; false when it was held, parked, delayed or ended instead. */
  private boolean dispatch(Batch batch) {
    Instant now = Instant.now(clock);
    Instant settle = settleUntil;
    if (settle != null && now.isBefore(settle)) {
      scheduler.add(batch.dueAt(settle));
      return false;
    }
    QueueName queue = QueueName.parse(batch.queue());
    String rejectedFile = rejectedFileFor(queue);
    if (rejectedFile != null) {
      park("config:" + rejectedFile, batch);
      return false;
    }
    QueueConfig config = configFor(queue);
    if (!now.isBefore(batch.created().plus(config.maxAge()))) {
      workers.execute(() -> expire(batch, config));
      return false;
    }
    AdminAction bounce = actionFor(AdminAction.Kind.BOUNCE, queue, now);
    if (bounce != null) {
      workers.execute(() -> adminBounce(batch, bounce));
      return false;
    }
    AdminAction suspension = actionFor(AdminAction.Kind.SUSPEND, queue, now);
    if (suspension != null) {
      hold(suspension, batch);
      return false;
    }
    DeliveryProtocol protocol = protocols.get(config.protocol());
    if (protocol == null) {
      park("protocol:" + config.protocol(), batch);
      return false;
    }
    Optional<EgressSource> source = egress.choose(config.egressPool(), ThreadLocalRandom.current());
    if (source.isEmpty()) {
      park("pool:" + config.egressPool(), batch);
      return false;
    }
    if (config.maxMessageRate() != null && !batch.slotReserved()) {
      Throttle throttle =
          queueThrottles.computeIfAbsent(batch.queue(), q -> new Throttle(config.maxMessageRate()));
      if (!throttle.rate().equals(config.maxMessageRate())) {
        throttle.setRate(config.maxMessageRate());
      }
      long waitNanos = throttle.reserve(System.nanoTime());
      if (waitNanos > 0) {
        scheduler.add(batch.withSlotAt(now.plusNanos(waitNanos)));
        return false;
      }
    }
    inDelivery.add(batch);
    gauges.deliveryStarted(batch);
    workers.execute(() -> startDelivery(batch, queue, config, protocol, source.get()));
    return true;
  }

  private List<QueueRule> rules() {
    List<QueueRule> rules = new ArrayList<>(definitions.size());
    for (QueueDefinition definition : definitions) {
      QueueRule rule = definition.rule();
      if (rule != null) {
        rules.add(rule);
      }
    }
    return rules;
  }

  /** The file of a rejected configuration that matches the queue best, or null. */
  private String rejectedFileFor(QueueName queue) {
    QueueRule rule = QueueRules.matching(rules(), queue);
    return rule == null || rule.rejection() == null ? null : rule.config().source();
  }

  QueueConfig configFor(QueueName queue) {
    QueueConfig config = QueueRules.resolve(rules(), queue);
    for (QueueConfigPolicy policy : configPolicies) {
      try {
        config = policy.adjust(queue, config);
      } catch (RuntimeException e) {
        LOG.warn("Queue configuration policy {} failed for {}; ignored", policy, queue, e);
      }
    }
    return config;
  }

  /** The first action of this kind in force for the queue, or null. */
  private AdminAction actionFor(AdminAction.Kind kind, QueueName queue, Instant now) {
    for (AdminAction action : actions) {
      if (action.kind() == kind && !action.isExpired(now) && action.selector().matches(queue)) {
        return action;
      }
    }
    return null;
  }

  private void hold(AdminAction suspension, Batch batch) {
    synchronized (holdLock) {
      if (actions.contains(suspension)) {
        held.computeIfAbsent(suspension.id(), k -> new ArrayList<>()).add(batch);
        return;
      }
    }
    // Resumed between the look-up and now: it goes on as if never held.
    scheduler.add(batch);
  }

  private void park(String reason, Batch batch) {
    boolean releaseNow;
    synchronized (holdLock) {
      parked.computeIfAbsent(reason, k -> new ArrayList<>()).add(batch);
      // What it waits for may have come between the look-up and the parking.
      if (reason.startsWith("protocol:")) {
        releaseNow = protocols.containsKey(reason.substring("protocol:".length()));
      } else if (reason.startsWith("pool:")) {
        releaseNow = egress.hasPool(reason.substring("pool:".length()));
      } else {
        releaseNow = rejectedFileFor(QueueName.parse(batch.queue())) == null;
      }
    }
    if (releaseNow) {
      releaseParkedWhere(reason::equals, null);
    } else if (reason.startsWith("config:")) {
      if (warnedMissing.add(reason)) {
        LOG.warn(
            "Queue {} waits: its configuration {} was rejected; fix the file",
            batch.queue(),
            reason.substring("config:".length()));
      }
    } else if (warnedMissing.add(reason)) {
      LOG.warn(
          "Queue {} waits: {} is not installed; any other queue that needs it waits too",
          batch.queue(),
          reason.replace(':', ' '));
    }
  }

  /** Schedules parked batches again, at {@code due} or when each was due. */
  private void releaseParkedWhere(Predicate<String> reasons, Instant due) {
    List<Batch> released = new ArrayList<>();
    synchronized (holdLock) {
      parked.forEach(
          (reason, batches) -> {
            if (reasons.test(reason)) {
              released.addAll(batches);
              batches.clear();
            }
          });
    }
    if (!released.isEmpty()) {
      LOG.info("Releasing {} messages that waited for a protocol or pool", released.size());
    }
    for (Batch batch : released) {
      scheduler.add(due == null ? batch : batch.dueAt(due));
    }
  }

  private void deliveryEnded(Batch batch) {
    if (inDelivery.remove(batch)) {
      gauges.deliveryEnded(batch);
    }
  }

  /** Runs on a worker: hands the batch to the protocol and books the outcome when it comes. */
  private void startDelivery(
      Batch batch,
      QueueName queue,
      QueueConfig config,
      DeliveryProtocol protocol,
      EgressSource source) {
    try {
      MessageRecord message = spool.message(batch.messageId()).orElse(null);
      if (message == null) {
        LOG.warn("Message {} is no longer in the spool; dropping its schedule", batch.messageId());
        batch.entries().forEach(gauges::removed);
        deliveryEnded(batch);
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
              new SpooledContent(message),
              source);
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
              scheduler.add(batch.dueAt(Instant.now(clock).plusSeconds(60)));
            } finally {
              deliveryEnded(batch);
              inFlight.release();
            }
          });
    } catch (RuntimeException e) {
      LOG.error("Delivery of {} could not start; it stays queued", batch.messageId(), e);
      scheduler.add(batch.dueAt(Instant.now(clock).plusSeconds(60)));
      deliveryEnded(batch);
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
    List<EntryKey> failed = new ArrayList<>();
    Response lastTransient = null;
    for (QueueEntry entry : batch.entries()) {
      RecipientResult outcome = resultFor(result, entry, config);
      switch (outcome.disposition()) {
        case DELIVERED -> {
          spool.remove(entry.key());
          gauges.removed(entry);
          emit(EventType.DELIVERY, message, entry, outcome.response(), result, attempt, config);
        }
        case PERMANENT_FAILURE -> {
          spool.remove(entry.key());
          gauges.removed(entry);
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
          failed.add(entry.key());
          lastTransient = outcome.response();
        }
      }
    }
    if (failed.isEmpty()) {
      return;
    }
    Instant now = Instant.now(clock);
    Instant next = now.plus(config.retry().delayAfter(attempt, ThreadLocalRandom.current()));
    Batch retry = batch.retry(failed, next, attempt);
    if (batch.attempts() == 0) {
      gauges.firstFailure(batch.queue(), failed.size());
    }
    AdminAction bounce = actionFor(AdminAction.Kind.BOUNCE, QueueName.parse(batch.queue()), now);
    if (bounce != null) {
      adminBounce(retry, bounce);
      return;
    }
    if (!next.isBefore(batch.created().plus(config.maxAge()))) {
      expire(retry, config);
      return;
    }
    for (EntryKey key : failed) {
      spool.reschedule(key, next, attempt, lastTransient.toString());
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
    Response response =
        Response.of(551, "5.4.7", "message expired after " + config.maxAge() + " in the queue");
    end(batch, EventType.EXPIRATION, response, config);
  }

  private void adminBounce(Batch batch, AdminAction bounce) {
    String reason = bounce.reason() == null ? "no reason given" : bounce.reason();
    Response response = Response.of(551, "5.7.1", "administratively bounced: " + reason);
    end(batch, EventType.ADMIN_BOUNCE, response, null);
  }

  /** Removes the batch's entries from the spool, each with a record of why. */
  private void end(Batch batch, EventType type, Response response, QueueConfig config) {
    try {
      MessageRecord message = spool.message(batch.messageId()).orElse(null);
      for (QueueEntry entry : batch.entries()) {
        spool.remove(entry.key());
        gauges.removed(entry);
        if (message != null) {
          emit(type, message, entry, response, null, entry.attempts(), config);
        }
      }
    } catch (SpoolException e) {
      LOG.error("Could not end {} ({}); it stays queued", batch, type.recordName(), e);
      scheduler.add(batch.dueAt(Instant.now(clock).plusSeconds(60)));
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
        result == null ? null : result.tlsCipher(),
        Map.of());
  }

  /** A record of a message at reception: the client's TLS and the filters' notes. */
  private void emitAtReception(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      PeerAddress client,
      ReceivedMessage received) {
    Submission submission = received.submission();
    emit(
        type,
        message,
        entry,
        response,
        client,
        0,
        null,
        submission.tlsProtocol(),
        submission.tlsCipher(),
        received.meta());
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
      String tlsCipher,
      Map<String, String> meta) {
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
            tlsCipher,
            meta);
    publish(record);
  }

  private void publish(EventRecord record) {
    for (EventListener listener : listeners) {
      try {
        listener.onEvent(record);
      } catch (RuntimeException e) {
        LOG.warn(
            "Event listener {} failed on a {} record", listener, record.type().recordName(), e);
      }
    }
  }

  // --- admin actions ----------------------------------------------------------------------------

  @Override
  public Map<String, QueueCounts> counts() {
    return gauges.snapshot();
  }

  @Override
  public AdminAction suspend(Selector selector, Duration duration, String reason) {
    return addAction(AdminAction.Kind.SUSPEND, selector, null, duration, reason);
  }

  @Override
  public AdminAction suspendReady(String site, Duration duration, String reason) {
    if (site == null || site.isBlank()) {
      throw new IllegalArgumentException("name the site to suspend");
    }
    return addAction(
        AdminAction.Kind.SUSPEND_READY,
        null,
        site.trim().toLowerCase(Locale.ROOT),
        duration,
        reason);
  }

  private AdminAction addAction(
      AdminAction.Kind kind, Selector selector, String site, Duration duration, String reason) {
    if (duration != null && (duration.isNegative() || duration.isZero())) {
      throw new IllegalArgumentException("the duration must be positive, not " + duration);
    }
    Instant now = Instant.now(clock);
    AdminAction action =
        new AdminAction(
            UUID.randomUUID().toString(),
            kind,
            selector,
            site,
            reason == null || reason.isBlank() ? null : reason.trim(),
            now,
            duration == null ? null : now.plus(duration));
    spool.saveAdminAction(action);
    actions.add(action);
    scheduleExpiry(action);
    LOG.info(
        "{} {} {}{}",
        kind,
        action.id(),
        action.target(),
        action.expires() == null ? "" : " until " + action.expires());
    return action;
  }

  private void scheduleExpiry(AdminAction action) {
    if (action.expires() == null) {
      return;
    }
    long delay = Math.max(0, action.expires().toEpochMilli() - clock.millis());
    timer.schedule(() -> endAction(action, "expired"), delay, TimeUnit.MILLISECONDS);
  }

  /** Takes an action out of force; a suspension's held mail goes back to its schedule. */
  private void endAction(AdminAction action, String how) {
    List<Batch> released;
    synchronized (holdLock) {
      if (!actions.remove(action)) {
        return;
      }
      released = held.remove(action.id());
    }
    try {
      spool.deleteAdminAction(action.id());
    } catch (SpoolException e) {
      LOG.error("Could not delete {} {} from the spool", action.kind(), action.id(), e);
    }
    if (released != null) {
      released.forEach(scheduler::add);
    }
    LOG.info(
        "{} {} {} {}; {} messages released",
        action.kind(),
        action.id(),
        action.target(),
        how,
        released == null ? 0 : released.size());
  }

  @Override
  public List<AdminAction> suspensions() {
    Instant now = Instant.now(clock);
    return actions.stream()
        .filter(a -> a.kind() != AdminAction.Kind.BOUNCE && !a.isExpired(now))
        .toList();
  }

  @Override
  public List<AdminAction> resume(String id, Selector selector) {
    if ((id == null || id.isBlank()) && selector == null) {
      throw new IllegalArgumentException(
          "name a suspension id, or a domain, tenant, campaign or queue");
    }
    List<AdminAction> ended = new ArrayList<>();
    for (AdminAction action : suspensions()) {
      boolean byId = id != null && action.id().equals(id.trim());
      boolean bySelector = selector != null && selector.equals(action.selector());
      if (byId || bySelector) {
        endAction(action, "resumed");
        ended.add(action);
      }
    }
    return ended;
  }

  @Override
  public BounceOutcome bounce(Selector selector, Duration duration, String reason) {
    AdminAction bounce =
        addAction(
            AdminAction.Kind.BOUNCE,
            selector,
            null,
            duration == null ? DEFAULT_BOUNCE_DURATION : duration,
            reason);
    List<Batch> matching = takeWaiting(selector, true);
    int recipients = 0;
    for (Batch batch : matching) {
      recipients += batch.size();
      workers.execute(() -> adminBounce(batch, bounce));
    }
    LOG.info("Admin bounce {} ends {} queued recipients", bounce.id(), recipients);
    return new BounceOutcome(bounce, recipients);
  }

  @Override
  public List<AdminAction> bounces() {
    Instant now = Instant.now(clock);
    return actions.stream()
        .filter(a -> a.kind() == AdminAction.Kind.BOUNCE && !a.isExpired(now))
        .toList();
  }

  @Override
  public boolean cancelBounce(String id) {
    for (AdminAction action : bounces()) {
      if (action.id().equals(id.trim())) {
        endAction(action, "cancelled");
        return true;
      }
    }
    return false;
  }

  @Override
  public int retryNow(Selector selector) {
    Instant now = Instant.now(clock);
    List<Batch> matching = scheduler.removeIf(b -> matches(selector, b));
    int recipients = 0;
    for (Batch batch : matching) {
      recipients += batch.size();
      scheduler.add(batch.dueAt(now));
    }
    LOG.info("Retry now: {} recipients matching {}", recipients, selector);
    return recipients;
  }

  @Override
  public int rebind(Selector selector, String reason) {
    Instant now = Instant.now(clock);
    List<Batch> matching = takeWaiting(selector, false);
    Response response =
        Response.of(
            250, "2.0.0", "rebound" + (reason == null || reason.isBlank() ? "" : ": " + reason));
    int recipients = 0;
    for (Batch batch : matching) {
      recipients += batch.size();
      workers.execute(
          () -> {
            try {
              spool
                  .message(batch.messageId())
                  .ifPresent(
                      message -> {
                        QueueConfig config = configFor(QueueName.parse(batch.queue()));
                        for (QueueEntry entry : batch.entries()) {
                          emit(
                              EventType.ADMIN_REBIND,
                              message,
                              entry,
                              response,
                              null,
                              entry.attempts(),
                              config);
                        }
                      });
            } finally {
              scheduler.add(batch.dueAt(now));
            }
          });
    }
    LOG.info("Rebind: {} recipients matching {}", recipients, selector);
    return recipients;
  }

  /** Takes matching batches out of the schedule and the parking lots, and the held ones too. */
  private List<Batch> takeWaiting(Selector selector, boolean includingHeld) {
    Predicate<Batch> filter = b -> matches(selector, b);
    List<Batch> taken = new ArrayList<>(scheduler.removeIf(filter));
    synchronized (holdLock) {
      for (List<Batch> batches : parked.values()) {
        takeFrom(batches, filter, taken);
      }
      if (includingHeld) {
        for (List<Batch> batches : held.values()) {
          takeFrom(batches, filter, taken);
        }
      }
    }
    return taken;
  }

  private static void takeFrom(List<Batch> from, Predicate<Batch> filter, List<Batch> into) {
    from.removeIf(
        batch -> {
          if (filter.test(batch)) {
            into.add(batch);
            return true;
          }
          return false;
        });
  }

  private static boolean matches(Selector selector, Batch batch) {
    return selector.matches(QueueName.parse(batch.queue()));
  }

  @Override
  public boolean isReadySuspended(String site) {
    Instant now = Instant.now(clock);
    String name = site.toLowerCase(Locale.ROOT);
    for (AdminAction action : actions) {
      if (action.kind() == AdminAction.Kind.SUSPEND_READY
          && !action.isExpired(now)
          && action.site().equals(name)) {
        return true;
      }
    }
    return false;
  }

  // --- inspection -------------------------------------------------------------------------------

  /** Calls {@code visitor} with every batch the manager holds and the state it is in. */
  private void forEachBatch(BatchVisitor visitor) {
    scheduler.forEach(batch -> visitor.visit(batch, "scheduled"));
    synchronized (holdLock) {
      parked.forEach(
          (reason, batches) -> {
            String state = "waiting for " + reason.replace(":", " ");
            batches.forEach(batch -> visitor.visit(batch, state));
          });
      held.values().forEach(batches -> batches.forEach(batch -> visitor.visit(batch, "suspended")));
    }
    for (Batch batch : inDelivery) {
      visitor.visit(batch, "in delivery");
    }
  }

  private interface BatchVisitor {
    void visit(Batch batch, String state);
  }

  @Override
  public QueueSummary summary() {
    QueueStatistics statistics = new QueueStatistics();
    forEachBatch(statistics::add);
    Instant now = Instant.now(clock);
    List<ScheduledQueueStatus> scheduled =
        statistics.statuses(
            queue -> configFor(queue).protocol(),
            queue -> actionFor(AdminAction.Kind.SUSPEND, queue, now) != null);
    List<ReadyQueueStatus> ready = new ArrayList<>();
    for (DeliveryProtocol protocol : protocols.values()) {
      try {
        ready.addAll(protocol.readyQueues());
      } catch (RuntimeException e) {
        LOG.warn("A delivery protocol failed to report its ready queues", e);
      }
    }
    ready.sort(Comparator.comparing(ReadyQueueStatus::name));
    return new QueueSummary(scheduled, ready);
  }

  @Override
  public List<QueuedRecipient> list(Selector selector, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("the limit must be at least 1");
    }
    List<QueuedRecipient> found = new ArrayList<>();
    forEachBatch(
        (batch, state) -> {
          if (selector == null || matches(selector, batch)) {
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

  @Override
  public Optional<MessageDetails> message(String messageId) {
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

  @Override
  public List<ProtocolStatus> protocols() {
    Map<String, List<String>> queuesByProtocol = new TreeMap<>();
    Set<String> queues = new TreeSet<>();
    forEachBatch((batch, state) -> queues.add(batch.queue()));
    for (String queue : queues) {
      String protocol = configFor(QueueName.parse(queue)).protocol();
      queuesByProtocol.computeIfAbsent(protocol, k -> new ArrayList<>()).add(queue);
    }
    protocols.keySet().forEach(name -> queuesByProtocol.computeIfAbsent(name, k -> List.of()));
    List<ProtocolStatus> statuses = new ArrayList<>();
    queuesByProtocol.forEach(
        (name, names) ->
            statuses.add(
                new ProtocolStatus(name, protocolProviders.get(name), List.copyOf(names))));
    return statuses;
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
