package org.postilion.queue.manager;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;

/**
 * A protocol whose sites behave as a test says: the site is the recipient domain; a domain may hang
 * (its sessions never answer until released), refuse, throw, or never tell where it goes.
 */
final class FakeProtocol implements DeliveryProtocol {
  enum Behaviour {
    DELIVER,
    HANG,
    TEMPFAIL,
    THROW,
    NEVER_RESOLVE
  }

  private final Map<String, Behaviour> behaviours = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> openSessions = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> mostSessions = new ConcurrentHashMap<>();
  final AtomicInteger sessionsOpened = new AtomicInteger();
  final List<String> delivered = new CopyOnWriteArrayList<>();
  final List<Long> deliveredAtNanos = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);

  FakeProtocol behave(String domain, Behaviour behaviour) {
    behaviours.put(domain, behaviour);
    return this;
  }

  /** Lets every hanging session go on. */
  void release() {
    release.countDown();
  }

  int openSessions(String site) {
    return openSessions.computeIfAbsent(site, s -> new AtomicInteger()).get();
  }

  int mostSessions(String site) {
    return mostSessions.computeIfAbsent(site, s -> new AtomicInteger()).get();
  }

  private Behaviour behaviour(String site) {
    return behaviours.getOrDefault(site, Behaviour.DELIVER);
  }

  @Override
  public CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source) {
    if (behaviour(domain) == Behaviour.NEVER_RESOLVE) {
      return new CompletableFuture<>();
    }
    return CompletableFuture.completedFuture(Site.named(domain));
  }

  @Override
  public DeliverySession open(Site site, EgressSource source) {
    sessionsOpened.incrementAndGet();
    int now = openSessions.computeIfAbsent(site.name(), s -> new AtomicInteger()).incrementAndGet();
    mostSessions
        .computeIfAbsent(site.name(), s -> new AtomicInteger())
        .accumulateAndGet(now, Math::max);
    return new DeliverySession() {
      @Override
      public DeliveryResult deliver(DeliveryRequest request) throws DeliveryException {
        switch (behaviour(site.name())) {
          case HANG -> {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw DeliveryException.transientFailure("4.4.2", "interrupted");
            }
          }
          case TEMPFAIL -> throw DeliveryException.transientFailure("4.4.1", "try later");
          case THROW -> throw new IllegalStateException("the fake protocol broke");
          default -> {}
        }
        delivered.add(request.messageId() + " " + request.recipients());
        deliveredAtNanos.add(System.nanoTime());
        return DeliveryResult.forAll(
            request,
            Disposition.DELIVERED,
            Response.of(250, "2.0.0", "ok"),
            new PeerAddress(site.name(), null));
      }

      @Override
      public void close() {
        openSessions.get(site.name()).decrementAndGet();
      }
    };
  }
}
