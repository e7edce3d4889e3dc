package org.postilion.delivery.smtp;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination site: its ready queue and the threads that hold its connections. Each thread owns
 * one connection, takes the next message from the queue, and keeps the connection for the next one
 * until it has carried max_deliveries_per_connection messages or stayed idle too long. At most
 * connection_limit threads run per site, so a slow site holds only its own threads.
 */
final class Site {
  private static final Logger LOG = LoggerFactory.getLogger(Site.class);

  /** What the workers need from the protocol. */
  interface Environment {
    TlsContexts tls();

    LoopGuard loopGuard();

    SmtpConnection.Timeouts timeouts();

    long idleTimeoutMillis();
  }

  private final String name;
  private final Environment environment;
  private final Deque<DeliveryJob> ready = new ArrayDeque<>();
  private final List<Thread> workers = new ArrayList<>();
  private int idle;
  private boolean closed;

  Site(String name, Environment environment) {
    this.name = name;
    this.environment = environment;
  }

  /** Queues a message; starts a connection when none is free and the limit allows. */
  synchronized void submit(DeliveryJob job) {
    if (closed) {
      job.result()
          .completeExceptionally(new IllegalStateException("the smtp protocol is stopping"));
      return;
    }
    ready.addLast(job);
    if (ready.size() > idle && workers.size() < job.settings().connectionLimit()) {
      Thread worker = new Thread(this::work, "postilion-smtp-out-" + name + "-" + workers.size());
      worker.setDaemon(true);
      workers.add(worker);
      worker.start();
    } else {
      notify();
    }
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
    abandoned.forEach(
        job ->
            job.result()
                .completeExceptionally(new IllegalStateException("the smtp protocol is stopping")));
    running.forEach(Thread::interrupt);
  }

  /** The next message, or null when none came within the idle timeout (the worker then ends). */
  private synchronized DeliveryJob next() {
    long deadline = System.currentTimeMillis() + environment.idleTimeoutMillis();
    while (ready.isEmpty() && !closed) {
      long wait = deadline - System.currentTimeMillis();
      if (wait <= 0) {
        break;
      }
      idle++;
      try {
        wait(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closed = true;
      } finally {
        idle--;
      }
    }
    if (ready.isEmpty() || closed) {
      workers.remove(Thread.currentThread());
      return null;
    }
    return ready.pollFirst();
  }

  private void work() {
    SmtpConnection connection = null;
    try {
      DeliveryJob job;
      while ((job = next()) != null) {
        if (connection != null
            && connection.transactions() >= job.settings().maxDeliveriesPerConnection()) {
          connection.quit();
          connection = null;
        }
        connection = deliver(job, connection);
      }
    } catch (RuntimeException e) {
      LOG.error("SMTP worker for {} failed", name, e);
    } finally {
      if (connection != null) {
        connection.quit();
      }
      synchronized (this) {
        workers.remove(Thread.currentThread());
      }
    }
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
        tried++;
        try {
          return SmtpConnection.open(
              host.name(),
              address,
              host.port(),
              settings.ehloName(),
              settings.tls(),
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
