package org.postilion.queue.manager;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.postilion.api.bounce.BounceClassifier;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.config.LocalHost;
import org.postilion.api.config.NodeId;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventPublisher;
import org.postilion.api.event.EventRecord;
import org.postilion.api.message.TraceHeader;
import org.postilion.api.metrics.Providers;
import org.postilion.api.queue.QueueConfigPolicy;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.ReceptionFilter;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.api.reception.Transfer;
import org.postilion.api.shaping.TrafficShaping;
import org.postilion.api.spool.Spool;
import org.postilion.queue.QueueDefinition;
import org.postilion.queue.QueueRule;
import org.postilion.queue.bus.EventBus;
import org.postilion.queue.egress.EgressRegistry;
import org.postilion.queue.reception.ReceptionBuffers;
import org.postilion.queue.reception.ResourceGuard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue manager: takes mail in ({@link Reception}), keeps it in scheduled queues named {@code
 * campaign:tenant@domain}, moves due mail into ready queues per destination site and egress source,
 * whose threads deliver it through the protocols, and books what became of it. The operator's hands
 * on the queues ({@link org.postilion.api.admin.QueueAdmin}) are {@link Administration}, which
 * reaches the parts through {@link QueueParts}.
 *
 * <p>This class wires the parts, each of which does one job: {@link Receiver} (reception), {@link
 * Scheduler} (scheduled queues), {@link Dispatcher} (due mail to its ready queue), {@link
 * ReadyQueues} (sessions, limits, pacing), {@link Outcomes} (booking, group commit), {@link
 * AdminActions} and {@link Operations} (the operator's actions), {@link Transfers} (xfer), {@link
 * Inspection} (what the operator sees), {@link QueueConfigs} (configuration per queue, cached) and
 * the {@link EventBus}.
 */
@Component(
    service = {Reception.class, EventPublisher.class, QueueParts.class},
    immediate = true,
    configurationPid = "org.postilion.queue.manager")
@Designate(ocd = QueueManagerConfig.class)
public class QueueManager implements Reception, EventPublisher, QueueParts {
  private static final Logger LOG = LoggerFactory.getLogger(QueueManager.class);

  /** How long dispatching pauses after a configuration went away. */
  private static final Duration SETTLE_AFTER_REMOVAL = Duration.ofSeconds(2);

  private final Clock clock;
  private final Scheduler scheduler;
  private final QueueGauges gauges = new QueueGauges();
  private final InFlight inFlight = new InFlight(gauges);
  private final Parking parking = new Parking();
  private final ReceptionFilters filters = new ReceptionFilters();
  private MessageCache cache;
  private final EventBus bus;
  private final Map<String, DeliveryProtocol> protocols = new ConcurrentHashMap<>();
  private final Path dataFolder;
  private final Path etcFolder;
  private final Map<String, String> protocolProviders = new ConcurrentHashMap<>();
  private final List<QueueDefinition> definitions = new CopyOnWriteArrayList<>();

  @Reference private Spool spool;

  @Reference private ReceptionBuffers buffers;

  /** Refuses reception while disk or heap run short; absent only in unit tests. */
  @Reference private ResourceGuard guard;

  @Reference private EgressRegistry egress;

  /** Replaced whole by Declarative Services as policies come and go. */
  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY,
      updated = "policiesChanged")
  private volatile List<QueueConfigPolicy> configPolicies = List.of();

  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile TrafficShaping shaping;

  /** Gives failure records their bounce_classification; without it they are Uncategorized. */
  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile BounceClassifier classifier;

  /** Names the mailbox provider of a site in the {@code *_by_provider} metrics. */
  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile Providers providers;

  /** Connection limits and rates that hold across the cluster; absent on a node of its own. */
  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile SharedLimits sharedLimits;

  private QueueMetrics metrics;

  private Records records;

  private Transfers transfers;

  private TransferReceiver transferReceiver;
  private Receiver receiver;
  private AdminActions actions;
  private QueueConfigs configs;
  private ReadyQueues ready;
  private Outcomes outcomes;
  private Dispatcher dispatcher;
  private Operations operations;
  private Inspection inspection;
  private ThreadPoolExecutor routing;
  private ThreadPoolExecutor policyThreads;

  /** Mail that waited for an egress pool may go once pools or sources change. */
  private final Runnable egressChanged =
      () -> {
        if (dispatcher != null) {
          dispatcher.releaseParked(reason -> reason.startsWith("pool:"), null);
        }
      };

  public QueueManager() {
    this(
        Clock.systemUTC(),
        Path.of(System.getProperty("karaf.data", "data")),
        Path.of(System.getProperty("karaf.etc", "etc")));
  }

  /**
   * @param dataFolder where the node id is kept, and the event bus's spill files under tmp/
   */
  QueueManager(Clock clock, Path dataFolder) {
    this(clock, dataFolder, dataFolder.resolve("etc"));
  }

  /**
   * @param etcFolder where the trace key is kept
   */
  QueueManager(Clock clock, Path dataFolder, Path etcFolder) {
    this.clock = clock;
    this.dataFolder = dataFolder;
    this.etcFolder = etcFolder;
    this.scheduler = new Scheduler(clock);
    this.bus = new EventBus(dataFolder.resolve("tmp").resolve("event-bus"));
  }

  @Activate
  void activate(QueueManagerConfig config) {
    String nodeId = NodeId.in(dataFolder);
    String hostName = LocalHost.name();
    records =
        new Records(
            bus,
            clock,
            nodeId,
            () -> nodeName(hostName),
            this::protocolRecordName,
            () -> classifier);
    cache = new MessageCache(config.message__cache());
    receiver = new Receiver(spool, filters, cache, scheduler, gauges, records, clock, this::admit);
    headers(config);
    actions = new AdminActions(spool, clock, action -> operations.ended(action));
    policyThreads = pool("postilion-queue-policy", 2, 10_000);
    configs =
        new QueueConfigs(
            this::rules,
            () -> configPolicies,
            policyThreads,
            duration(config.policy__timeout(), "policy_timeout"),
            duration(config.policy__cache(), "policy_cache"));
    outcomes = new Outcomes(spool, scheduler, records, gauges, inFlight, actions, clock, cache);
    metrics = new QueueMetrics(() -> providers, System::nanoTime);
    bus.subscribe(metrics);
    receiver.metrics(metrics);
    ready =
        new ReadyQueues(
            actions,
            new SpooledCourier(spool, cache, outcomes, inFlight, gauges, scheduler),
            metrics,
            () -> sharedLimits);
    routing = pool("postilion-routing", 2, 100_000);
    dispatcher =
        new Dispatcher(
            scheduler,
            configs,
            actions,
            parking,
            egress,
            protocols::get,
            () -> shaping,
            ready,
            outcomes,
            inFlight,
            routing,
            clock,
            duration(config.resolve__timeout(), "resolve_timeout"));
    operations =
        new Operations(
            actions, scheduler, parking, ready, inFlight, outcomes, configs, records, spool, clock);
    transfers = new Transfers(spool, nodeId, operations, clock);
    transferReceiver =
        new TransferReceiver(
            spool, scheduler, gauges, records, clock, this::admit, receiver::capture);
    inspection =
        new Inspection(
            scheduler,
            parking,
            ready,
            inFlight,
            configs,
            actions,
            spool,
            protocolProviders::get,
            () -> new TreeSet<>(protocols.keySet()),
            name -> {
              DeliveryProtocol protocol = protocols.get(name);
              return protocol == null ? List.of() : protocol.keys();
            });
    actions.load();
    long start = System.nanoTime();
    int loaded = scheduler.load(spool, gauges::added);
    LOG.info(
        "Queue manager started with {} queued recipients from the spool in {} ms",
        loaded,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    egress.onChange(egressChanged);
    outcomes.start();
    dispatcher.start();
  }

  /** The cluster's name for this node, else its host name. */
  private String nodeName(String hostName) {
    SharedLimits cluster = sharedLimits;
    if (cluster == null) {
      return hostName;
    }
    try {
      return cluster.nodeName();
    } catch (SharedLimits.Unavailable e) {
      // The cluster component is being replaced this instant.
      return hostName;
    }
  }

  @Modified
  void modified(QueueManagerConfig config) {
    headers(config);
  }

  private void headers(QueueManagerConfig config) {
    try {
      receiver.capture(LogCapture.parse(config.log__headers(), config.log__meta()));
    } catch (IllegalArgumentException e) {
      // Refused, naming the key; mail keeps flowing, with the capture in force before (or none).
      LOG.error(
          "org.postilion.queue.manager.cfg: {} refused; records capture what they did before",
          e.getMessage());
    }
    receiver.headers(
        config.tenant__header().trim().toLowerCase(Locale.ROOT),
        config.campaign__header().trim().toLowerCase(Locale.ROOT));
    TraceHeader traces = null;
    if (config.trace__header()) {
      Path keyFile = etcFolder.resolve("postilion-trace.key");
      try {
        traces = TraceHeader.fromKeyFile(keyFile);
      } catch (IOException e) {
        // Mail still flows; only the tie from its reports back to it is missing.
        LOG.error(
            "Cannot read or make the trace key {}: messages go without X-Postilion-Ref",
            keyFile,
            e);
      }
    }
    receiver.traces(traces);
  }

  private static Duration duration(String value, String key) {
    try {
      return org.postilion.api.queue.Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key " + key + ": " + e.getMessage(), e);
    }
  }

  /** A small pool with a bounded queue; when that is full the caller runs the task itself. */
  private static ThreadPoolExecutor pool(String name, int threads, int capacity) {
    return new ThreadPoolExecutor(
        threads,
        threads,
        60,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(capacity),
        DaemonThreads.numbered(name),
        new ThreadPoolExecutor.CallerRunsPolicy());
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    transfers.close();
    egress.removeChangeListener(egressChanged);
    scheduler.close();
    dispatcher.stop();
    // What waits in ready queues stays in the spool and is read back at the next start.
    ready.closeAll(10_000);
    outcomes.close();
    routing.shutdownNow();
    policyThreads.shutdownNow();
    actions.close();
    bus.unsubscribe(metrics);
    metrics.close();
    bus.close();
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
    addProtocol(
        name.toString(),
        protocol,
        reference.getBundle().getSymbolicName() + " " + reference.getBundle().getVersion());
  }

  void addProtocol(String name, DeliveryProtocol protocol, String provider) {
    // Files written before it arrived are checked against its keys before it takes mail.
    boolean rejected = false;
    for (QueueDefinition definition : definitions) {
      rejected |= definition.protocolArrived(name, protocol.keys());
    }
    if (rejected) {
      changed(null);
    }
    if (ready != null) {
      ready.protocolAvailable(protocol);
    }
    protocols.put(name, protocol);
    protocolProviders.put(name, provider);
    LOG.info("Delivery protocol '{}' is available", name);
    if (dispatcher != null) {
      dispatcher.releaseParked(reason -> reason.equals("protocol:" + name), null);
    }
  }

  /** A protocol's name in records: its own choice ({@code ESMTP}), else its service name. */
  private String protocolRecordName(String name) {
    DeliveryProtocol protocol = protocols.get(name);
    String chosen = protocol == null ? null : protocol.recordName();
    return chosen == null ? name : chosen;
  }

  void removeProtocol(ServiceReference<DeliveryProtocol> reference, DeliveryProtocol protocol) {
    Object name = reference.getProperty(DeliveryProtocol.PROTOCOL);
    if (name != null) {
      removeProtocol(name.toString(), protocol);
    }
  }

  void removeProtocol(String name, DeliveryProtocol protocol) {
    if (!protocols.remove(name, protocol)) {
      return;
    }
    protocolProviders.remove(name);
    LOG.info("Delivery protocol '{}' went away; its queues wait for it", name);
    if (ready != null) {
      // Mail that waited in its ready queues goes back to be dispatched: it then waits for the
      // protocol. Deliveries under way end as the protocol ends them.
      ready.closeProtocol(protocol).forEach(ready.courier()::giveBack);
    }
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY,
      updated = "updatedDefinition")
  void addDefinition(QueueDefinition definition) {
    QueueRule rule = definition.rule();
    DeliveryProtocol protocol = rule == null ? null : protocols.get(rule.config().protocol());
    if (protocol != null) {
      // It may have been read while its protocol was arriving.
      definition.protocolArrived(rule.config().protocol(), protocol.keys());
    }
    definitions.add(definition);
    changed(null);
  }

  void updatedDefinition(QueueDefinition definition) {
    changed(null);
  }

  /**
   * A configuration went away: its file was deleted, or the bundle is stopping and the other
   * configurations go too. Mail is held for a moment rather than sent by whatever rules remain.
   */
  void removeDefinition(QueueDefinition definition) {
    definitions.remove(definition);
    Instant settle = Instant.now(clock).plus(SETTLE_AFTER_REMOVAL);
    if (dispatcher != null) {
      dispatcher.settle(settle);
    }
    changed(settle);
  }

  private void changed(Instant due) {
    if (configs != null) {
      configs.invalidate();
    }
    if (dispatcher != null) {
      dispatcher.releaseParked(reason -> !reason.startsWith("policy:"), due);
    }
  }

  void policiesChanged(QueueConfigPolicy policy) {
    if (configs != null) {
      configs.invalidate();
    }
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addListener(EventListener listener, Map<String, Object> properties) {
    Object durable = properties.get(EventListener.SUBSCRIBER);
    if (durable == null || durable.toString().isBlank()) {
      bus.subscribe(listener);
      return;
    }
    String name = durable.toString().trim();
    String pid = String.valueOf(properties.get("service.pid"));
    if (pid.contains("~")) {
      name += "-" + pid.substring(pid.indexOf('~') + 1);
    }
    bus.subscribe(listener, name);
  }

  void removeListener(EventListener listener) {
    bus.unsubscribe(listener);
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addFilter(ReceptionFilter filter, Map<String, Object> properties) {
    filters.add(filter, properties);
  }

  void removeFilter(ReceptionFilter filter) {
    filters.remove(filter);
  }

  // --- Reception ------------------------------------------------------------------------------

  @Override
  public ContentBuffer buffer() throws ReceptionException {
    admit();
    return buffers.buffer();
  }

  @Override
  public String receptionPaused() {
    return guard == null ? null : guard.refusing();
  }

  /** Refuses new mail while the disk or the heap runs short. */
  private void admit() throws ReceptionException {
    if (guard != null) {
      guard.check();
    }
  }

  @Override
  public void publish(EventRecord record) {
    records.publish(
        record.nodeId() == null || record.nodeName() == null ? records.withNode(record) : record);
  }

  @Override
  public String receive(Submission submission) throws ReceptionException {
    return receiver.receive(submission);
  }

  @Override
  public void refused(Refusal refusal) {
    receiver.refused(refusal);
  }

  @Override
  public String receiveTransfer(Transfer transfer) throws ReceptionException {
    return transferReceiver.receive(transfer);
  }

  // --- QueueParts: what Administration, the operator's hands, reaches -------------------------

  @Override
  public Inspection inspection() {
    return inspection;
  }

  @Override
  public Operations operations() {
    return operations;
  }

  @Override
  public Transfers transfers() {
    return transfers;
  }

  @Override
  public AdminActions actions() {
    return actions;
  }

  @Override
  public ReadyQueues ready() {
    return ready;
  }

  @Override
  public QueueConfigs configs() {
    return configs;
  }

  @Override
  public QueueGauges gauges() {
    return gauges;
  }

  /** For tests: what Declarative Services would inject. */
  void bind(
      Spool spool,
      ReceptionBuffers buffers,
      EgressRegistry egress,
      TrafficShaping shaping,
      List<QueueConfigPolicy> policies) {
    this.spool = spool;
    this.buffers = buffers;
    this.egress = egress;
    this.shaping = shaping;
    this.configPolicies = policies;
  }
}
