package org.postilion.delivery.lmtp;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.LocalHost;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.Durations;
import org.postilion.api.queue.QueueConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers to a local mail store over LMTP (RFC 2033), protocol {@code lmtp}: Dovecot, Cyrus,
 * Postfix's virtual delivery. Each recipient's reply after the final dot becomes its own result.
 * The server is named per queue by {@code lmtp.host}/{@code lmtp.port} or {@code lmtp.socket}, and
 * is the site: the queue manager's ready queue for it bounds the connections ({@code
 * connection_limit} of the shaping rules), paces them and keeps each for several messages.
 */
@Component(
    service = DeliveryProtocol.class,
    immediate = true,
    property = DeliveryProtocol.PROTOCOL + "=" + LmtpProtocol.NAME,
    configurationPid = "org.postilion.delivery.lmtp")
@Designate(ocd = LmtpProtocol.Config.class)
public class LmtpProtocol implements DeliveryProtocol {
  static final String NAME = "lmtp";
  private static final Logger LOG = LoggerFactory.getLogger(LmtpProtocol.class);
  private static final String GONE = "protocol lmtp went away";

  @ObjectClassDefinition(name = "Postilion LMTP delivery", description = "protocol=lmtp")
  public @interface Config {
    @AttributeDefinition(description = "Name said in LHLO; empty means this host's name")
    String lhlo__name() default "";

    @AttributeDefinition(description = "Time to connect, e.g. 30s")
    String connect__timeout() default "30s";

    @AttributeDefinition(description = "Time for each command's reply, e.g. 5m")
    String command__timeout() default "5m";

    @AttributeDefinition(description = "Time to send the message and for each final reply")
    String data__timeout() default "10m";

    @AttributeDefinition(
        description = "When the bundle stops: how long transactions under way may take to finish")
    String stop__grace() default "15s";
  }

  /** The settings in force, parsed. */
  record Settings(
      String lhloName, Duration connectTimeout, Duration commandTimeout, Duration dataTimeout) {}

  /** Every open connection, and those of them opening or in a transaction. */
  private final Set<LmtpSession> connections = ConcurrentHashMap.newKeySet();

  private final Set<LmtpSession> busy = ConcurrentHashMap.newKeySet();
  private Settings settings;
  private Duration stopGrace;
  private ScheduledExecutorService watchdog;
  private volatile boolean stopping;

  @Activate
  void activate(Config config) {
    settings =
        new Settings(
            config.lhlo__name().isBlank() ? LocalHost.name() : config.lhlo__name().trim(),
            Durations.parse(config.connect__timeout()),
            Durations.parse(config.command__timeout()),
            Durations.parse(config.data__timeout()));
    stopGrace = Durations.parse(config.stop__grace());
    watchdog =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "postilion-lmtp-watchdog"));
    LOG.info("LMTP delivery ready, LHLO {}", settings.lhloName());
  }

  /**
   * The bundle is stopping or being replaced. The queue manager sends no new work; transactions
   * under way may finish for a while (a message whose final dot was sent must not be cut off, or it
   * would be delivered twice), and those still running after the grace period are cut off and end
   * as transient failures, so their mail waits in its queue for the next lmtp protocol.
   */
  @Deactivate
  void deactivate() throws InterruptedException {
    stopping = true;
    long deadline = System.nanoTime() + stopGrace.toNanos();
    while (!busy.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    if (!busy.isEmpty()) {
      LOG.warn("LMTP transactions still running after {}; cutting them off", stopGrace);
    }
    // Idle connections too: a QUIT could wait on a server that stopped answering.
    connections.forEach(LmtpSession::close);
    watchdog.shutdownNow();
  }

  /** As KumoMTA names it in records' {@code delivery_protocol}. */
  @Override
  public String recordName() {
    return "LMTP";
  }

  @Override
  public List<ProtocolKey> keys() {
    return LmtpTarget.KEYS;
  }

  @Override
  public CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source) {
    try {
      LmtpTarget target = LmtpTarget.of(config);
      return CompletableFuture.completedFuture(new Site(target.toString(), "", target));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new DeliveryException(Response.of(451, "4.3.5", e.getMessage())));
    }
  }

  /**
   * A session is one LMTP connection, kept for up to {@code max_deliveries_per_connection}
   * transactions as the ready queue decides; opening it connects and says LHLO.
   */
  @Override
  public DeliverySession open(Site site, EgressSource source) throws DeliveryException {
    if (stopping) {
      throw DeliveryException.transientFailure("4.3.0", GONE);
    }
    LmtpSession connection = new LmtpSession((LmtpTarget) site.route(), settings, watchdog);
    connections.add(connection);
    busy.add(connection);
    try {
      connection.open();
    } catch (IOException e) {
      connections.remove(connection);
      throw new DeliveryException(connection.failure(e), false, e);
    } finally {
      busy.remove(connection);
    }
    return new DeliverySession() {
      private int carried;

      @Override
      public DeliveryResult deliver(DeliveryRequest request) throws DeliveryException {
        if (stopping) {
          throw DeliveryException.transientFailure("4.3.0", GONE);
        }
        busy.add(connection);
        try {
          DeliveryResult result = connection.deliver(request);
          carried++;
          return result;
        } catch (LmtpSession.Unanswered e) {
          // On a kept connection, the server had closed it meanwhile: worth one more try.
          throw new DeliveryException(connection.failure(e.getCause()), carried > 0, e.getCause());
        } finally {
          busy.remove(connection);
        }
      }

      @Override
      public boolean isUsable() {
        return connection.usable();
      }

      @Override
      public void abort() {
        connection.close();
      }

      @Override
      public void close() {
        connections.remove(connection);
        connection.quitAndClose();
      }
    };
  }
}
