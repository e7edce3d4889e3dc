package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postilion.api.cluster.ClusterStatus;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.queue.QueueRules;

/** One ready queue with a scripted protocol: sessions, their reuse and their limits. */
class ReadyQueueTest {
  private final List<String> booked = new CopyOnWriteArrayList<>();
  private final List<String> givenBack = new CopyOnWriteArrayList<>();
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  private volatile boolean dropKeptConnections;
  private volatile java.util.concurrent.CountDownLatch hang;
  private ReadyQueue queue;

  /** A site whose sessions deliver, or say once that a kept connection was dropped. */
  private final DeliveryProtocol protocol =
      new DeliveryProtocol() {
        @Override
        public CompletionStage<Site> resolve(
            QueueConfig config, String domain, EgressSource source) {
          return CompletableFuture.completedFuture(Site.named(domain));
        }

        @Override
        public DeliverySession open(Site site, EgressSource source) {
          opened.incrementAndGet();
          return new DeliverySession() {
            private int carried;

            @Override
            public DeliveryResult deliver(DeliveryRequest request) throws DeliveryException {
              java.util.concurrent.CountDownLatch latch = hang;
              if (latch != null) {
                try {
                  latch.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              if (dropKeptConnections && carried > 0) {
                throw new DeliveryException(Response.of(421, "4.4.2", "closed"), true, null);
              }
              carried++;
              return DeliveryResult.forAll(
                  request, Disposition.DELIVERED, Response.of(250, "2.0.0", "ok"), null);
            }

            @Override
            public void close() {
              closed.incrementAndGet();
            }
          };
        }
      };

  private final Courier courier =
      new Courier() {
        @Override
        public Attempt prepare(Delivery delivery) {
          MessageRecord message =
              new MessageRecord(
                  delivery.batch().messageId(), "a@b.test", Instant.now(), 1, null, null, "ESMTP");
          DeliveryRequest request =
              new DeliveryRequest(
                  message.id(),
                  message.sender(),
                  delivery.batch().recipients(),
                  delivery.queue(),
                  delivery.config(),
                  1,
                  MessageContent.of(new byte[1]),
                  delivery.source());
          return new Attempt(delivery, message, request);
        }

        @Override
        public void giveBack(Delivery delivery) {
          givenBack.add(delivery.batch().messageId());
        }

        @Override
        public void book(Attempt attempt, DeliveryResult result, Throwable failure) {
          booked.add(
              attempt.delivery().batch().messageId()
                  + " "
                  + (result == null ? "failed " + failure : result.recipients().get(0).response()));
        }
      };

  private void start(ShapingSettings shaping) {
    queue =
        new ReadyQueue(
            new ReadyQueueKey("test", "site.test", "", "unspecified"),
            protocol,
            new ReadyQueue.Environment() {
              @Override
              public boolean isSuspended(ReadyQueueKey key) {
                return false;
              }

              @Override
              public Courier courier() {
                return courier;
              }

              @Override
              public void retired(ReadyQueue retired) {}

              @Override
              public SharedLimits sharedLimits() {
                return cluster;
              }
            });
    this.shaping = shaping;
  }

  private ShapingSettings shaping;

  /**
   * A cluster's limits as the ready queue sees them: leases up to the limit it is given (none while
   * {@code leasesRefused}), every call refused while {@code away}, a share of 1 then.
   */
  private final class FakeCluster implements SharedLimits {
    final List<String> keys = new CopyOnWriteArrayList<>();
    final AtomicInteger held = new AtomicInteger();
    final AtomicInteger mostHeld = new AtomicInteger();
    final List<java.util.concurrent.atomic.AtomicBoolean> issued = new CopyOnWriteArrayList<>();
    volatile boolean away;
    volatile boolean leasesRefused;

    @Override
    public String nodeName() {
      return "test";
    }

    @Override
    public boolean available() {
      return !away;
    }

    @Override
    public ClusterStatus status() {
      return null;
    }

    @Override
    public long reserve(String key, Rate rate) {
      if (away) {
        throw new Unavailable("away", null);
      }
      keys.add(key);
      return 0;
    }

    @Override
    public Lease acquire(String key, int limit) {
      if (away) {
        throw new Unavailable("away", null);
      }
      keys.add(key);
      if (leasesRefused || held.get() >= limit) {
        return null;
      }
      mostHeld.accumulateAndGet(held.incrementAndGet(), Math::max);
      AtomicInteger once = new AtomicInteger();
      java.util.concurrent.atomic.AtomicBoolean kept =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      issued.add(kept);
      return new Lease() {
        @Override
        public void close() {
          // A forgotten lease is no longer counted: giving it back changes nothing.
          if (once.getAndIncrement() == 0 && kept.get()) {
            held.decrementAndGet();
          }
        }

        @Override
        public boolean held() {
          return kept.get();
        }
      };
    }

    /** Redis restarted without persistence: every lease given so far is forgotten. */
    void forgetLeases() {
      issued.forEach(kept -> kept.set(false));
      held.set(0);
    }

    @Override
    public int fallback(int limit) {
      return 1;
    }

    @Override
    public Rate fallback(Rate rate) {
      return new Rate(rate.count(), rate.period().multipliedBy(2));
    }
  }

  private volatile FakeCluster cluster;

  private static ShapingSettings shared(int connections, Rate rate) {
    return new ShapingSettings(connections, rate, null, 100, 100, Duration.ofMillis(300), true);
  }

  private ReadyQueue.Offer offer(String id) {
    Instant now = Instant.now();
    Batch batch =
        Batch.of(
            List.of(new QueueEntry(new EntryKey(id, 0), "r@site.test", "site.test", now, now, 0)));
    QueueConfig config = QueueRules.resolve(List.of(), QueueName.parse("site.test"));
    return queue.offer(
        new Delivery(
            batch,
            QueueName.parse("site.test"),
            config,
            EgressSource.UNSPECIFIED,
            Site.named("site.test"),
            shaping,
            now));
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (queue != null) {
      queue.close();
      queue.awaitStop(2000);
    }
  }

  @Test
  void readyQueuesAreNamedAsKumoMtaNamesThem() {
    assertEquals(
        "unspecified->mx.example.net@smtp_client",
        new ReadyQueueKey("smtp", "mx.example.net", "", "unspecified").name());
    assertEquals(
        "pool-a->/var/mail@maildir",
        new ReadyQueueKey("maildir", "/var/mail", "", "pool-a").name());
  }

  @Test
  void aSessionCarriesUpToMaxDeliveriesPerConnection() throws Exception {
    start(new ShapingSettings(1, null, null, 3, 100, Duration.ofSeconds(5)));
    for (int i = 0; i < 7; i++) {
      assertEquals(ReadyQueue.Offer.ACCEPTED, offer("m" + i));
    }
    Harness.await("7 booked", Duration.ofSeconds(5), () -> booked.size() == 7);
    assertEquals(3, opened.get(), "3 + 3 + 1 messages");
    assertTrue(booked.stream().allMatch(b -> b.endsWith("250 2.0.0 ok")), booked.toString());
  }

  @Test
  void aKeptConnectionTheSiteDroppedIsReplacedOnceWithoutAFailure() throws Exception {
    start(new ShapingSettings(1, null, null, 100, 100, Duration.ofSeconds(5)));
    dropKeptConnections = true;
    offer("m1");
    Harness.await("m1", Duration.ofSeconds(5), () -> booked.size() == 1);
    offer("m2");
    Harness.await("m2", Duration.ofSeconds(5), () -> booked.size() == 2);
    assertEquals("m2 250 2.0.0 ok", booked.get(1), "delivered over a fresh session");
    assertEquals(2, opened.get());
  }

  @Test
  void anIdleSessionIsClosedAfterTheIdleTimeout() throws Exception {
    start(new ShapingSettings(1, null, null, 100, 100, Duration.ofMillis(300)));
    offer("m1");
    Harness.await("m1", Duration.ofSeconds(5), () -> booked.size() == 1);
    Harness.await("the idle session closed", Duration.ofSeconds(5), () -> closed.get() == 1);
    assertEquals(0, queue.status().connections());
  }

  @Test
  void aFullQueueRefusesAtOnceAndTakesMoreOnceItDrains() throws Exception {
    start(new ShapingSettings(1, null, null, 100, 2, Duration.ofSeconds(5)));
    hang = new java.util.concurrent.CountDownLatch(1);
    assertEquals(ReadyQueue.Offer.ACCEPTED, offer("m0"));
    Harness.await("m0 in its session", Duration.ofSeconds(5), () -> queue.waiting() == 0);
    assertEquals(ReadyQueue.Offer.ACCEPTED, offer("m1"));
    assertEquals(ReadyQueue.Offer.ACCEPTED, offer("m2"));
    long start = System.nanoTime();
    assertEquals(ReadyQueue.Offer.FULL, offer("m3"));
    assertTrue(System.nanoTime() - start < Duration.ofMillis(100).toNanos());
    hang.countDown();
    Harness.await("three booked", Duration.ofSeconds(5), () -> booked.size() == 3);
    assertEquals(ReadyQueue.Offer.ACCEPTED, offer("m3"));
  }

  @Test
  void mailWaitingForItsSlotWhenTheQueueClosesGoesBackWithoutAnAttempt() throws Exception {
    start(new ShapingSettings(1, Rate.parse("1/h"), null, 100, 100, Duration.ofSeconds(5)));
    offer("m1");
    Harness.await("m1", Duration.ofSeconds(5), () -> booked.size() == 1);
    offer("m2");
    // Taken by the session's thread, which waits an hour for m2's slot.
    Harness.await("m2 taken", Duration.ofSeconds(5), () -> queue.waiting() == 0);
    assertEquals(List.of(), queue.close(), "nothing left waiting in the queue");
    Harness.await("m2 given back", Duration.ofSeconds(5), () -> givenBack.equals(List.of("m2")));
    assertEquals(1, booked.size(), "no attempt booked for m2: " + booked);
  }

  @Test
  void aSharedLimitTakesTheClustersLeasesAndRateAndGivesTheLeasesBack() throws Exception {
    cluster = new FakeCluster();
    start(shared(2, Rate.parse("1000/s")));
    cluster.leasesRefused = true;
    hang = new java.util.concurrent.CountDownLatch(1);
    for (int i = 0; i < 4; i++) {
      offer("m" + i);
    }
    Harness.await(
        "sessions asking for leases",
        Duration.ofSeconds(5),
        () -> cluster.keys.contains("sessions:" + queue.key().name()));
    // Other nodes hold every lease: nothing is opened until one comes free.
    assertEquals(0, opened.get());
    assertEquals("ConnectionLimited", queue.details().sessions().get(0).phase());
    cluster.leasesRefused = false;
    Harness.await("two sessions open", Duration.ofSeconds(5), () -> opened.get() == 2);
    hang.countDown();
    Harness.await("4 booked", Duration.ofSeconds(5), () -> booked.size() == 4);
    assertEquals(2, cluster.mostHeld.get());
    assertTrue(cluster.keys.contains("messages:" + queue.key().name()), cluster.keys.toString());
    Harness.await(
        "idle sessions closed and their leases given back",
        Duration.ofSeconds(5),
        () -> closed.get() == 2 && cluster.held.get() == 0);
  }

  @Test
  void whileTheClusterIsAwayTheQueueKeepsToItsShare() throws Exception {
    cluster = new FakeCluster();
    cluster.away = true;
    start(shared(4, null));
    hang = new java.util.concurrent.CountDownLatch(1);
    for (int i = 0; i < 4; i++) {
      offer("m" + i);
    }
    Harness.await("a session open", Duration.ofSeconds(5), () -> opened.get() == 1);
    Harness.await(
        "the other threads waiting for a place",
        Duration.ofSeconds(5),
        () ->
            queue.details().sessions().stream()
                    .filter(session -> session.phase().equals("ConnectionLimited"))
                    .count()
                >= 1);
    // Its share of 4 is 1 (the fake's fallback): one session until the first one ends.
    assertEquals(1, opened.get());
    hang.countDown();
    Harness.await("4 booked", Duration.ofSeconds(5), () -> booked.size() == 4);
    assertTrue(booked.stream().allMatch(b -> b.endsWith("250 2.0.0 ok")), booked.toString());
  }

  @Test
  void aSessionOpenedWhileTheClusterWasAwayTakesALeaseOnceItIsBack() throws Exception {
    cluster = new FakeCluster();
    cluster.away = true;
    // Sessions are kept long enough to be reused.
    start(new ShapingSettings(4, null, null, 100, 100, Duration.ofSeconds(10), true));
    offer("m0");
    Harness.await("m0 delivered", Duration.ofSeconds(5), () -> booked.size() == 1);
    assertEquals(0, cluster.mostHeld.get());
    cluster.away = false;
    // The session Redis never counted ends, idle or not, well before its idle timeout of 10 s.
    Harness.await("the uncounted session closed", Duration.ofSeconds(3), () -> closed.get() == 1);
    offer("m1");
    Harness.await("m1 delivered", Duration.ofSeconds(5), () -> booked.size() == 2);
    assertEquals(2, opened.get());
    assertEquals(1, closed.get());
    assertEquals(1, cluster.held.get());
    offer("m2");
    Harness.await("m2 delivered", Duration.ofSeconds(5), () -> booked.size() == 3);
    assertEquals(2, opened.get(), "a session under a lease is kept");
  }

  @Test
  void aSessionWhoseLeaseRedisLostTakesANewOne() throws Exception {
    cluster = new FakeCluster();
    start(new ShapingSettings(4, null, null, 100, 100, Duration.ofSeconds(10), true));
    offer("m0");
    Harness.await("m0 delivered", Duration.ofSeconds(5), () -> booked.size() == 1);
    assertEquals(1, cluster.held.get());
    cluster.forgetLeases();
    offer("m1");
    Harness.await("m1 delivered", Duration.ofSeconds(5), () -> booked.size() == 2);
    assertEquals(2, opened.get());
    assertEquals(1, closed.get());
    assertEquals(1, cluster.held.get(), "the new session holds a lease Redis knows");
  }

  @Test
  void aLimitNotMarkedSharedNeverAsksTheCluster() throws Exception {
    cluster = new FakeCluster();
    start(new ShapingSettings(2, Rate.parse("1000/s"), null, 100, 100, Duration.ofSeconds(5)));
    offer("m1");
    Harness.await("m1", Duration.ofSeconds(5), () -> booked.size() == 1);
    assertTrue(cluster.keys.isEmpty(), cluster.keys.toString());
  }
}
