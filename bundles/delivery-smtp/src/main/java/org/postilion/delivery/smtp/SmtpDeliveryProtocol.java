package org.postilion.delivery.smtp;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
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
import org.postilion.api.config.LocalHost;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.Durations;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.trace.SmtpTrace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;

/**
 * Delivers over SMTP to the recipient domain's MX hosts, or to the smarthosts of the queue's {@code
 * smtp.mx_list}. It tells the queue manager where mail goes (the site: the MX host set, asked of
 * DNS asynchronously) and opens connections to it on the ready queue's threads; the queue manager
 * owns the ready queues, their limits and their pacing.
 */
@Component(
    service = DeliveryProtocol.class,
    immediate = true,
    property = DeliveryProtocol.PROTOCOL + "=" + SmtpDeliveryProtocol.NAME,
    configurationPid = "org.postilion.delivery.smtp")
@Designate(ocd = SmtpDeliveryProtocol.Config.class)
public class SmtpDeliveryProtocol implements DeliveryProtocol {
  static final String NAME = "smtp";
  private static final Logger LOG = LoggerFactory.getLogger(SmtpDeliveryProtocol.class);

  @ObjectClassDefinition(name = "Postilion SMTP delivery", description = "protocol=smtp")
  public @interface Config {
    @AttributeDefinition(description = "Name said in EHLO; empty for this host's name")
    String ehlo__name() default "";

    @AttributeDefinition(description = "DNS servers (host or host:port); empty for the system's")
    String resolver_servers() default "";

    @AttributeDefinition(description = "Time one DNS lookup may take, over all servers")
    String resolver_timeout() default "5s";

    @AttributeDefinition(description = "Time to wait for a TCP connection")
    String connect__timeout() default "30s";

    @AttributeDefinition(description = "Time to wait for the reply to each command")
    String command__timeout() default "5m";

    @AttributeDefinition(description = "Time to wait for the reply after the message data")
    String data__timeout() default "10m";
  }

  private final List<LocalListener> listeners = new CopyOnWriteArrayList<>();
  private final LoopGuard loopGuard = new LoopGuard(this::listenerAddresses);
  private final TlsContexts tls = new TlsContexts();
  private RouteResolver resolver;
  private SmtpConnector connector;
  private String ehloName;
  private final DnsMetrics dnsMetrics = new DnsMetrics();

  /** Where transcripts go while an operator watches (mta:trace-smtp-client). */
  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile SmtpTrace trace;

  @Activate
  void activate(Config config) {
    try {
      configure(config);
    } catch (RuntimeException e) {
      dnsMetrics.close(); // not activated: no deactivate will give the metrics back
      throw e;
    }
  }

  private void configure(Config config) {
    ehloName = config.ehlo__name().isBlank() ? LocalHost.name() : config.ehlo__name().trim();
    SmtpConnection.Timeouts timeouts =
        new SmtpConnection.Timeouts(
            Durations.parse(config.connect__timeout()),
            Durations.parse(config.command__timeout()),
            Durations.parse(config.data__timeout()));
    connector = new SmtpConnector(loopGuard, tls, timeouts, () -> trace);
    resolver =
        new RouteResolver(
            dnsResolver(config.resolver_servers(), Durations.parse(config.resolver_timeout())),
            Clock.systemUTC(),
            dnsMetrics);
    LOG.info("SMTP delivery ready, EHLO {}", ehloName);
  }

  @Deactivate
  void deactivate() {
    dnsMetrics.close();
  }

  @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
  void addListener(LocalListener listener) {
    listeners.add(listener);
  }

  void removeListener(LocalListener listener) {
    listeners.remove(listener);
  }

  /**
   * The site is the set of MX hosts with their ports (KumoMTA's site name), so domains hosted alike
   * share connections and limits. DNS is asked without holding the caller.
   */
  @Override
  public CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source) {
    DestinationSettings settings;
    try {
      settings = DestinationSettings.from(config, ehloName);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new DeliveryException(
              Response.of(
                  451, "4.3.5", "queue configuration " + config.source() + ": " + e.getMessage())));
    }
    String ehlo =
        source.ehloDomain() != null && !source.ehloDomain().isBlank()
            ? source.ehloDomain().trim()
            : settings.ehloName();
    CompletableFuture<Route> route =
        settings.mxList().isEmpty()
            ? resolver.mxRoute(domain, settings.port())
            : resolver.hostRoute(settings.mxList(), settings.port());
    return route
        .thenApply(
            resolved -> {
              SmtpDestination destination = new SmtpDestination(resolved, settings, ehlo);
              return new Site(resolved.siteName(), destination.variant(), destination);
            })
        .exceptionallyCompose(error -> CompletableFuture.failedFuture(routeFailure(error)));
  }

  @Override
  public DeliverySession open(Site site, EgressSource source) throws DeliveryException {
    if (!(site.route() instanceof SmtpDestination destination)) {
      throw DeliveryException.transientFailure("4.3.0", "no SMTP route for site " + site.name());
    }
    try {
      return new SmtpSession(connector.connect(destination, source, site.name()));
    } catch (DeliveryFailure e) {
      throw new DeliveryException(e.response(), false, e);
    }
  }

  /** As KumoMTA names it in records' {@code delivery_protocol}. */
  @Override
  public String recordName() {
    return "ESMTP";
  }

  @Override
  public List<ProtocolKey> keys() {
    return DestinationSettings.KEYS;
  }

  /** A DNS answer that ends the attempt (no MX, NXDOMAIN) as a delivery failure with its reply. */
  private static Throwable routeFailure(Throwable error) {
    Throwable cause = RouteResolver.rootCause(error);
    if (cause instanceof DeliveryFailure failure) {
      return new DeliveryException(failure.response(), false, failure);
    }
    return error instanceof CompletionException c ? c.getCause() : error;
  }

  private Collection<InetSocketAddress> listenerAddresses() {
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (LocalListener listener : listeners) {
      addresses.add(listener.boundAddress());
    }
    return addresses;
  }

  /**
   * A resolver whose lookups end within {@code timeout}: dnsjava's overall timeout only stops
   * further tries, so each server's own timeout is set to its share of the budget too.
   */
  static Resolver dnsResolver(String servers, Duration timeout) {
    ExtendedResolver resolver;
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
    Resolver[] each = resolver.getResolvers();
    Duration share = timeout.dividedBy(Math.max(1, each.length));
    for (Resolver server : each) {
      server.setTimeout(share);
    }
    resolver.setTimeout(timeout);
    return resolver;
  }
}
