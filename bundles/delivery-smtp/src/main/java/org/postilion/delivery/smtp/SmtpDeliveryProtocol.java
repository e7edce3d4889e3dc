package org.postilion.delivery.smtp;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
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
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.config.LocalHost;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.Response;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.message.Addresses;
import org.postilion.api.queue.Durations;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.TrafficShaping;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

/**
 * Delivers over SMTP to the recipient domain's MX hosts, or to the smarthosts of the queue's {@code
 * smtp.mx_list}. The call returns at once: DNS is asked asynchronously and the message waits in a
 * ready queue, one per destination site and egress source, for one of that queue's connections. The
 * traffic shaping service sets each ready queue's limits; without it the defaults apply.
 */
@Component(
    service = DeliveryProtocol.class,
    immediate = true,
    property = DeliveryProtocol.PROTOCOL + "=" + SmtpDeliveryProtocol.NAME,
    configurationPid = "org.postilion.delivery.smtp")
@Designate(ocd = SmtpDeliveryProtocol.Config.class)
public class SmtpDeliveryProtocol implements DeliveryProtocol, Site.Environment {
  static final String NAME = "smtp";
  private static final Logger LOG = LoggerFactory.getLogger(SmtpDeliveryProtocol.class);

  @ObjectClassDefinition(name = "Postilion SMTP delivery", description = "protocol=smtp")
  public @interface Config {
    @AttributeDefinition(description = "Name said in EHLO; empty for this host's name")
    String ehlo__name() default "";

    @AttributeDefinition(description = "DNS servers (host or host:port); empty for the system's")
    String resolver_servers() default "";

    @AttributeDefinition(description = "Time to wait for a DNS answer")
    String resolver_timeout() default "5s";

    @AttributeDefinition(description = "Time to wait for a TCP connection")
    String connect__timeout() default "30s";

    @AttributeDefinition(description = "Time to wait for the reply to each command")
    String command__timeout() default "5m";

    @AttributeDefinition(description = "Time to wait for the reply after the message data")
    String data__timeout() default "10m";

    @AttributeDefinition(description = "An unused connection is closed after this")
    String idle__timeout() default "60s";
  }

  /**
   * How often at most a failing admin service is logged, so a broken one does not flood the log.
   */
  private static final long ADMIN_WARNING_INTERVAL_NANOS = Duration.ofMinutes(1).toNanos();

  private final Map<ReadyQueueKey, Site> sites = new ConcurrentHashMap<>();
  private final List<LocalListener> listeners = new CopyOnWriteArrayList<>();
  private final LoopGuard loopGuard = new LoopGuard(this::listenerAddresses);
  private final TlsContexts tls = new TlsContexts();
  private RouteResolver resolver;
  private SmtpConnection.Timeouts timeouts;
  private long idleTimeoutMillis;
  private String ehloName;
  private final Set<String> warnedMovedKeys = ConcurrentHashMap.newKeySet();
  private final AtomicLong lastAdminWarning = new AtomicLong(Long.MIN_VALUE);

  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  volatile TrafficShaping shaping;

  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  volatile QueueAdmin queueAdmin;

  @Activate
  void activate(Config config) {
    ehloName = config.ehlo__name().isBlank() ? LocalHost.name() : config.ehlo__name().trim();
    timeouts =
        new SmtpConnection.Timeouts(
            Durations.parse(config.connect__timeout()),
            Durations.parse(config.command__timeout()),
            Durations.parse(config.data__timeout()));
    idleTimeoutMillis = Durations.parse(config.idle__timeout()).toMillis();
    resolver =
        new RouteResolver(
            dnsResolver(config.resolver_servers(), Durations.parse(config.resolver_timeout())),
            Clock.systemUTC());
    LOG.info("SMTP delivery ready, EHLO {}", ehloName);
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    sites.values().forEach(Site::close);
    for (Site site : sites.values()) {
      site.awaitStop(5_000);
    }
  }

  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
  void addListener(LocalListener listener) {
    listeners.add(listener);
  }

  void removeListener(LocalListener listener) {
    listeners.remove(listener);
  }

  @Override
  public CompletionStage<DeliveryResult> deliver(DeliveryRequest request) {
    DestinationSettings settings;
    try {
      settings = DestinationSettings.from(request.config(), ehloName);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          DeliveryResult.forAll(
              request,
              Disposition.TRANSIENT_FAILURE,
              Response.of(
                  451,
                  "4.3.5",
                  "queue configuration " + request.config().source() + ": " + e.getMessage()),
              null));
    }
    warnAboutMovedKeys(request);
    String domain = Addresses.domainOf(request.recipients().get(0));
    CompletableFuture<Route> route =
        settings.mxList().isEmpty()
            ? resolver.mxRoute(domain, settings.port())
            : resolver.hostRoute(settings.mxList(), settings.port());
    return route
        .thenCompose(resolved -> enqueue(request, domain, resolved, settings))
        .exceptionally(error -> routeFailure(request, error));
  }

  /** Puts the message in the ready queue of its site and egress source. */
  private CompletableFuture<DeliveryResult> enqueue(
      DeliveryRequest request, String domain, Route route, DestinationSettings settings) {
    String siteName = route.siteName();
    ShapingSettings limits;
    try {
      limits = shapingFor(domain, siteName);
    } catch (RuntimeException e) {
      // Sending without knowing the limits could break a receiver's; the message waits instead.
      LOG.warn("Traffic shaping failed for {} at {}", domain, siteName, e);
      return CompletableFuture.completedFuture(
          DeliveryResult.forAll(
              request,
              Disposition.TRANSIENT_FAILURE,
              Response.of(451, "4.3.5", "traffic shaping failed: " + e.getMessage()),
              null));
    }
    EgressSource source = request.source();
    String ehlo =
        source.ehloDomain() != null && !source.ehloDomain().isBlank()
            ? source.ehloDomain().trim()
            : settings.ehloName();
    ReadyQueueKey key = new ReadyQueueKey(siteName, source, settings.tls(), ehlo);
    DeliveryJob job = new DeliveryJob(request, route, settings, limits, new CompletableFuture<>());
    while (true) {
      Site site = sites.computeIfAbsent(key, k -> new Site(k, this));
      if (site.submit(job)) {
        return job.result();
      }
      // It retired just now, with its last worker gone: make way for a fresh one.
      sites.remove(key, site);
    }
  }

  private ShapingSettings shapingFor(String domain, String siteName) {
    TrafficShaping current = shaping;
    ShapingSettings limits = current == null ? null : current.forDestination(domain, siteName);
    return limits != null ? limits : ShapingSettings.DEFAULTS;
  }

  /** Tells once per queue configuration that its old limit keys no longer do anything. */
  private void warnAboutMovedKeys(DeliveryRequest request) {
    for (String key : DestinationSettings.MOVED_KEYS) {
      if (request.config().property(key) != null
          && warnedMovedKeys.add(request.config().source() + " " + key)) {
        LOG.warn(
            "{} sets {}, which is ignored: limits are set in"
                + " etc/org.postilion.queue.shaping-*.cfg ({})",
            request.config().source(),
            key,
            key.substring("smtp.".length()));
      }
    }
  }

  @Override
  public List<ReadyQueueStatus> readyQueues() {
    List<ReadyQueueStatus> statuses = new ArrayList<>();
    for (Site site : sites.values()) {
      statuses.add(site.status());
    }
    return statuses;
  }

  @Override
  public boolean isSuspended(String siteName) {
    QueueAdmin admin = queueAdmin;
    if (admin == null) {
      return false;
    }
    try {
      return admin.isReadySuspended(siteName);
    } catch (RuntimeException e) {
      // Delivery goes on rather than stall on a broken admin service; say so now and then.
      long now = System.nanoTime();
      long last = lastAdminWarning.get();
      if ((last == Long.MIN_VALUE || now - last >= ADMIN_WARNING_INTERVAL_NANOS)
          && lastAdminWarning.compareAndSet(last, now)) {
        LOG.warn("Cannot tell whether site {} is suspended; delivering to it", siteName, e);
      }
      return false;
    }
  }

  @Override
  public void retired(Site site) {
    sites.remove(site.key(), site);
  }

  private static DeliveryResult routeFailure(DeliveryRequest request, Throwable error) {
    Throwable cause = RouteResolver.rootCause(error);
    if (cause instanceof DeliveryFailure failure) {
      Response response = failure.response();
      return DeliveryResult.forAll(
          request,
          response.isPermanentFailure()
              ? Disposition.PERMANENT_FAILURE
              : Disposition.TRANSIENT_FAILURE,
          response,
          null);
    }
    throw error instanceof CompletionException c ? c : new CompletionException(error);
  }

  @Override
  public TlsContexts tls() {
    return tls;
  }

  @Override
  public LoopGuard loopGuard() {
    return loopGuard;
  }

  @Override
  public SmtpConnection.Timeouts timeouts() {
    return timeouts;
  }

  @Override
  public long idleTimeoutMillis() {
    return idleTimeoutMillis;
  }

  private Collection<InetSocketAddress> listenerAddresses() {
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (LocalListener listener : listeners) {
      addresses.add(listener.boundAddress());
    }
    return addresses;
  }

  static Resolver dnsResolver(String servers, Duration timeout) {
    Resolver resolver;
    if (servers.isBlank()) {
      resolver = new ExtendedResolver();
    } else {
      List<Resolver> configured = new ArrayList<>();
      for (String server : servers.split("[,\\s]+")) {
        if (!server.isBlank()) {
          HostSpec spec = HostSpec.parse(server.trim());
          configured.add(
              new SimpleResolver(
                  new InetSocketAddress(spec.host(), spec.port() == 0 ? 53 : spec.port())));
        }
      }
      resolver = new ExtendedResolver(configured);
    }
    resolver.setTimeout(timeout);
    return resolver;
  }
}
