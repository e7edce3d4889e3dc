package org.postilion.delivery.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.Throttle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ready queue: mail for one destination site from one egress source, and the threads that hold
 * its connections. Each thread owns at most one connection, takes the next message from the queue,
 * and keeps the connection for the next one until it has carried max_deliveries_per_connection
 * messages or stayed idle too long. The shaping limits of the latest queued message apply: at most
 * connection_limit threads, messages spaced by max_message_rate, new connections spaced by
 * max_connection_rate. A slow site holds only its own threads.
 */
final class Site {
  private static final Logger LOG = LoggerFactory.getLogger(Site.class);

  /** How often waiting workers look again whether an operator lifted a suspension. */
  private static final long SUSPENSION_RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** What the workers need from the protocol. */
  interface Environment {
    TlsContexts tls();

    LoopGuard loopGuard();

    SmtpConnection.Timeouts timeouts();

    long idleTimeoutMillis();

    /** Whether an operator suspended the ready queues of this destination site. */
    boolean isSuspended(String siteName);

    /** The site stopped with nothing left to do: the protocol may forget it. */
    void retired(Site site);
  }

  /** What a worker does next: deliver {@code job}, or, when it is null, close its connection. */
  private record Step(DeliveryJob job) {}

  private static final Step CLOSE_IDLE = new Step(null);

  private final ReadyQueueKey key;
  private final Environment environment;
  private final AtomicInteger threadNumber = new AtomicInteger();

  /** Workers that hold an open connection now. */
  private final AtomicInteger connections = new AtomicInteger();

  // The fields below are guarded by this.
  private final Deque<DeliveryJob> ready = new ArrayDeque<>();
  private final List<Thread> workers = new ArrayList<>();

  /** Workers that hold a job: waiting for its message slot, or delivering it. */
  private int active;

  /** Active workers still waiting for their message slot. */
  private int throttled;

  private int connectionLimit = ShapingSettings.DEFAULTS.connectionLimit();
  private Throttle messageThrottle;
  private Throttle connectionThrottle;
  private boolean closed;

  /** Its last worker left with no mail waiting; the next message goes to a new site. */
  private boolean retired;

  Site(ReadyQueueKey key, Environment environment) {
    this.key = key;
    this.environment = environment;
  }

  ReadyQueueKey key() {
    return key;
  }

  /**
   * Queues a message and starts a worker when one would help.
   *
   * @return false when the site retired meanwhile; the caller queues the message on a new site
   */
  boolean submit(DeliveryJob job) {
    // Asked before taking the lock: the admin service has locks of its own.
    boolean suspended = environment.isSuspended(key.siteName());
    synchronized (this) {
      if (retired) {
        return false;
      }
      if (closed) {
        job.result().completeExceptionally(stopping());
        return true;
      }
      apply(job.shaping());
      ready.addLast(job);
      // A suspended site needs one worker only, to notice when the suspension ends.
      if (!suspended || workers.isEmpty()) {
        spawnIfUseful();
      }
      notify();
    }
    return true;
  }

  /** Takes the latest message's limits, so an operator's edit applies without a restart. */
  private void apply(ShapingSettings shaping) {
    connectionLimit = shaping.connectionLimit();
    messageThrottle = retune(messageThrottle, shaping.maxMessageRate());
    connectionThrottle = retune(connectionThrottle, shaping.maxConnectionRate());
  }

  private static Throttle retune(Throttle throttle, Rate rate) {
    if (rate == null) {
      return null;
    }
    if (throttle == null) {
      return new Throttle(rate);
    }
    if (!rate.equals(throttle.rate())) {
      throttle.setRate(rate);
    }
    return throttle;
  }

  /**
   * Under the lock: starts a worker when mail waits that no worker is free to take. Under a message
   * rate the rate, not the number of connections, bounds the throughput: another worker starts only
   * when none is free or waiting for the next slot, so the rate is kept over few connections.
   */
  private void spawnIfUseful() {
    if (closed || ready.isEmpty() || workers.size() >= connectionLimit) {
      return;
    }
    int free = workers.size() - active;
    boolean wanted = messageThrottle == null ? ready.size() > free : free == 0 && throttled == 0;
    if (!wanted) {
      return;
    }
    Thread worker =
        new Thread(
            this::work, "postilion-smtp-out-" + key.name() + "-" + threadNumber.incrementAndGet());
    worker.setDaemon(true);
    workers.add(worker);
    worker.start();
  }

  /** Stops the workers; queued messages fail as transient and go back to their queues. */
  void close() {
    List<DeliveryJob> abandoned;
    List<Thread> running;
    synchronized (this) {
      closed = true;
      abandoned = new ArrayList<>(ready);
      ready.clear();
      running = new ArrayList<>(workers);
      notifyAll();
    }
    abandoned.forEach(job -> job.result().completeExceptionally(stopping()));
    running.forEach(Thread::interrupt);
  }

  private static IllegalStateException stopping() {
    return new IllegalStateException("the smtp protocol is stopping");
  }

  /** The queue summary's line for this ready queue. */
  ReadyQueueStatus status() {
    boolean suspended = environment.isSuspended(key.siteName());
    int waiting;
    synchronized (this) {
      // A message a worker holds until its slot comes is still waiting, as far as anyone can see.
      waiting = ready.size() + throttled;
    }
    return new ReadyQueueStatus(
        key.name(),
        SmtpDeliveryProtocol.NAME,
        key.siteName(),
        key.source().name(),
        waiting,
        connections.get(),
        suspended);
  }

  /**
   * Waits for the next message; null when the worker should end: the site closed, the connection
   * limit went down, or nothing came within the idle timeout. While the site is suspended nothing
   * is handed out and a worker idle that long is told to close its connection; the last worker
   * stays, looking again each second, to carry on when the suspension ends.
   */
  private Step next(boolean holdsConnection) {
    long deadline =
        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(environment.idleTimeoutMillis());
    while (true) {
      // Asked before taking the lock: the admin service has locks of its own.
      boolean suspended = environment.isSuspended(key.siteName());
      synchronized (this) {
        if (closed || workers.size() > connectionLimit) {
          leave();
          return null;
        }
        if (!ready.isEmpty() && !suspended) {
          active++;
          return new Step(ready.pollFirst());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          if (ready.isEmpty() || workers.size() > 1) {
            leave();
            return null;
          }
          if (holdsConnection) {
            return CLOSE_IDLE;
          }
        }
        long wait =
            ready.isEmpty()
                ? left
                : left > 0 ? Math.min(left, SUSPENSION_RECHECK_NANOS) : SUSPENSION_RECHECK_NANOS;
        try {
          TimeUnit.NANOSECONDS.timedWait(this, wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          leave();
          return null;
        }
      }
    }
  }

  /** Under the lock: the current worker ends; the site retires when it was the last, unneeded. */
  private void leave() {
    if (!workers.remove(Thread.currentThread())) {
      return;
    }
    if (workers.isEmpty() && ready.isEmpty() && !closed) {
      retired = true;
    } else if (!ready.isEmpty()) {
      // The wake-up for waiting mail may have come to this worker: pass it on.
      notify();
    }
  }

  private void work() {
    SmtpConnection connection = null;
    try {
      Step step;
      while ((step = next(connection != null)) != null) {
        if (step == CLOSE_IDLE) {
          connection = drop(connection);
          continue;
        }
        DeliveryJob job = step.job();
        try {
          if (connection != null
              && connection.transactions() >= job.shaping().maxDeliveriesPerConnection()) {
            connection = drop(connection);
          }
          if (!awaitMessageSlot()) {
            job.result().completeExceptionally(stopping());
            return;
          }
          connection = deliver(job, connection);
        } catch (RuntimeException e) {
          // Complete the job anyway: its queue waits for the result.
          LOG.error("SMTP delivery over {} failed", key.name(), e);
          job.result().completeExceptionally(e);
          connection = drop(connection);
        } finally {
          synchronized (this) {
            active--;
          }
        }
      }
    } finally {
      drop(connection);
      boolean retire;
      synchronized (this) {
        leave();
        retire = retired;
      }
      if (retire) {
        environment.retired(this);
      }
    }
  }

  /**
   * Waits until the message rate lets one more message go; false when interrupted because the
   * protocol is stopping.
   */
  private boolean awaitMessageSlot() {
    Throttle throttle;
    synchronized (this) {
      throttle = messageThrottle;
    }
    long wait = throttle == null ? 0 : throttle.reserve(System.nanoTime());
    if (wait > 0) {
      synchronized (this) {
        throttled++;
      }
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } finally {
        synchronized (this) {
          throttled--;
        }
      }
    }
    synchronized (this) {
      // This worker goes on to send: the next slot may need another one waiting for it.
      spawnIfUseful();
    }
    return true;
  }

  /** Waits until the connection rate lets one more connection open. */
  private void awaitConnectionSlot() throws DeliveryFailure {
    Throttle throttle;
    synchronized (this) {
      throttle = connectionThrottle;
    }
    long wait = throttle == null ? 0 : throttle.reserve(System.nanoTime());
    if (wait > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw DeliveryFailure.transientFailure("4.3.0", "the smtp protocol is stopping");
      }
    }
  }

  /** Says QUIT on a kept connection; returns null, the connection the worker then holds. */
  private SmtpConnection drop(SmtpConnection connection) {
    if (connection != null) {
      connections.decrementAndGet();
      connection.quit();
    }
    return null;
  }

  /** Delivers one job, completing its result; returns the connection to keep, or null. */
  private SmtpConnection deliver(DeliveryJob job, SmtpConnection connection) {
    DeliveryJob.Content content;
    try {
      content = job.content();
    } catch (IOException e) {
      job.result().completeExceptionally(e);
      return connection;
    }
    boolean reused = connection != null;
    for (int attempt = 0; attempt < 2; attempt++) {
      if (connection == null) {
        try {
          connection = connect(job);
          connections.incrementAndGet();
        } catch (DeliveryFailure e) {
          job.result().complete(failAll(job, e.response(), null));
          return null;
        }
      }
      try {
        List<RecipientResult> results = connection.send(job.request(), content);
        job.result()
            .complete(
                new DeliveryResult(
                    results, connection.peer(), connection.tlsProtocol(), connection.tlsCipher()));
        return connection;
      } catch (SmtpConnection.ConnectionLost e) {
        SmtpConnection broken = connection;
        connection = null;
        broken.close();
        connections.decrementAndGet();
        // A kept connection the server had already dropped: nothing was sent, try a fresh one.
        if (reused && e.beforeTransaction() && attempt == 0) {
          reused = false;
          continue;
        }
        job.result().complete(failAll(job, e.response(), broken));
        return null;
      }
    }
    return connection;
  }

  /** Tries every host of the route in order, every address of each, until one takes us. */
  private SmtpConnection connect(DeliveryJob job) throws DeliveryFailure {
    DestinationSettings settings = job.settings();
    InetAddress source = key.source().sourceAddress();
    DeliveryFailure last = null;
    int tried = 0;
    for (Route.Host host : job.route().hosts()) {
      for (InetAddress address : host.addresses()) {
        String loop =
            environment.loopGuard().refusal(address, host.port(), settings.allowLoopback());
        if (loop != null) {
          last =
              DeliveryFailure.permanentFailure(
                  554, "5.4.6", "mail for " + host.name() + " loops back to this server: " + loop);
          continue;
        }
        // A socket bound to an IPv4 source cannot reach an IPv6 host, nor the other way round.
        if (source != null && source.getClass() != address.getClass()) {
          last =
              DeliveryFailure.transientFailure(
                  "4.4.4",
                  "source "
                      + key.source().name()
                      + " ("
                      + source.getHostAddress()
                      + ") cannot reach "
                      + host.name()
                      + " at "
                      + address.getHostAddress());
          continue;
        }
        if (tried == 0) {
          // One slot per new connection; trying the next host of the route is the same one.
          awaitConnectionSlot();
        }
        tried++;
        try {
          return SmtpConnection.open(
              host.name(),
              address,
              host.port(),
              source,
              key.ehloName(),
              key.tls(),
              environment.tls(),
              environment.timeouts());
        } catch (DeliveryFailure e) {
          LOG.debug("{} failed: {}", host.name(), e.getMessage());
          last = e;
        }
        if (Thread.currentThread().isInterrupted()) {
          throw DeliveryFailure.transientFailure("4.3.0", "the smtp protocol is stopping");
        }
      }
    }
    if (last == null) {
      throw DeliveryFailure.transientFailure("4.4.4", "no host to connect to");
    }
    if (tried > 1) {
      Response response = last.response();
      throw new DeliveryFailure(
          Response.of(
              response.code(),
              response.enhancedCode(),
              "all " + tried + " hosts failed, the last: " + response.content()));
    }
    throw last;
  }

  private static DeliveryResult failAll(
      DeliveryJob job, Response response, SmtpConnection connection) {
    Disposition disposition =
        response.isPermanentFailure()
            ? Disposition.PERMANENT_FAILURE
            : Disposition.TRANSIENT_FAILURE;
    List<RecipientResult> results =
        job.request().recipients().stream()
            .map(r -> new RecipientResult(r, disposition, response))
            .toList();
    return connection == null
        ? new DeliveryResult(results, null)
        : new DeliveryResult(
            results, connection.peer(), connection.tlsProtocol(), connection.tlsCipher());
  }

  /** For shutdown: waits a little for workers to finish. */
  void awaitStop(long millis) throws InterruptedException {
    List<Thread> running;
    synchronized (this) {
      running = new ArrayList<>(workers);
    }
    long deadline = System.currentTimeMillis() + millis;
    for (Thread thread : running) {
      thread.join(Math.max(1, deadline - System.currentTimeMillis()));
    }
  }
}
