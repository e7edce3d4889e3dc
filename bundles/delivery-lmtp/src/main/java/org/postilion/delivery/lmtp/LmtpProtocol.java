package org.postilion.delivery.lmtp;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.LocalHost;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.Response;
import org.postilion.api.queue.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers to a local mail store over LMTP (RFC 2033), protocol {@code lmtp}: Dovecot, Cyrus,
 * Postfix's virtual delivery. Each recipient's reply after the final dot becomes its own result.
 * The server is named per queue by {@code lmtp.host}/{@code lmtp.port} or {@code lmtp.socket}.
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
  private static final String GONE = "451 4.3.0 protocol lmtp went away";

  @ObjectClassDefinition(name = "Postilion LMTP delivery", description = "protocol=lmtp")
  public @interface Config {
    @AttributeDefinition(description = "Name said in LHLO; empty means this host's name")
    String lhlo__name() default "";

    @AttributeDefinition(description = "Concurrent LMTP connections, over all queues")
    int max__connections() default 16;

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

  private final Set<LmtpSession> open = ConcurrentHashMap.newKeySet();
  private final Set<CompletableFuture<DeliveryResult>> pending = ConcurrentHashMap.newKeySet();
  private Settings settings;
  private Duration stopGrace;
  private ExecutorService workers;
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
    AtomicInteger counter = new AtomicInteger();
    workers =
        Executors.newFixedThreadPool(
            Math.max(1, config.max__connections()),
            r -> new Thread(r, "postilion-lmtp-" + counter.incrementAndGet()));
    watchdog =
        Executors.newSingleThreadScheduledExecutor(r -> new Thread(r, "postilion-lmtp-watchdog"));
    LOG.info("LMTP delivery ready, LHLO {}", settings.lhloName());
  }

  /**
   * The bundle is stopping or being replaced. Transactions under way may finish for a while (a
   * message whose final dot was sent must not be cut off, or it would be delivered twice); those
   * not yet started, and any still running after the grace period, end as transient failures, so
   * their mail waits in its queue for the next lmtp protocol.
   */
  @Deactivate
  void deactivate() throws InterruptedException {
    stopping = true;
    workers.shutdown();
    if (!workers.awaitTermination(stopGrace.toMillis(), TimeUnit.MILLISECONDS)) {
      LOG.warn("LMTP transactions still running after {}; cutting them off", stopGrace);
      open.forEach(LmtpSession::close);
      workers.shutdownNow();
      // Cut transactions report their own failure, which says more than "went away".
      workers.awaitTermination(2, TimeUnit.SECONDS);
    }
    pending.forEach(f -> f.completeExceptionally(new IllegalStateException(GONE)));
    watchdog.shutdownNow();
  }

  @Override
  public CompletionStage<DeliveryResult> deliver(DeliveryRequest request) {
    LmtpTarget target;
    try {
      target = LmtpTarget.of(request.config());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          DeliveryResult.forAll(
              request,
              Disposition.TRANSIENT_FAILURE,
              Response.of(451, "4.3.5", e.getMessage()),
              null));
    }
    CompletableFuture<DeliveryResult> result = new CompletableFuture<>();
    pending.add(result);
    result.whenComplete((r, e) -> pending.remove(result));
    try {
      workers.execute(() -> run(request, target, result));
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(new IllegalStateException(GONE, e));
    }
    return result;
  }

  private void run(
      DeliveryRequest request, LmtpTarget target, CompletableFuture<DeliveryResult> result) {
    if (stopping) {
      result.completeExceptionally(new IllegalStateException(GONE));
      return;
    }
    LmtpSession session = new LmtpSession(target, settings, watchdog);
    open.add(session);
    try {
      result.complete(session.deliver(request));
    } catch (RuntimeException e) {
      LOG.error("LMTP delivery of {} to {} failed", request.messageId(), target, e);
      result.completeExceptionally(e);
    } finally {
      open.remove(session);
    }
  }
}
