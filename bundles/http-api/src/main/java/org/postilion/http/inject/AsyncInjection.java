package org.postilion.http.inject;

import java.io.IOException;
import java.time.Duration;
import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.postilion.http.inject.Injector.Result;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.web.Json;
import org.postilion.http.web.RequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An injection handed from the Jetty thread that read it to a {@link RenderPool} thread, and
 * answered by whichever comes first: its result, or its request timeout. At the timeout an
 * injection still waiting for a thread is withdrawn (503); a running one has its {@link
 * RenderBudget} cancelled, which ends its rendering at once, and its result, the recipients queued
 * and those not, is the answer when it comes within a second.
 */
final class AsyncInjection implements Runnable, AsyncListener {
  private static final Logger LOG = LoggerFactory.getLogger(AsyncInjection.class);

  /** How long the timeout waits for a cancelled injection to report what it queued. */
  private static final long GRACE_MILLIS = 1000;

  /** The injection itself, run on a pool thread. */
  @FunctionalInterface
  interface Work {
    Result run() throws RequestException;
  }

  /** What to answer. */
  private record Reply(int status, Object body, Duration retryAfter) {
    static Reply error(int status, String message, Duration retryAfter) {
      return new Reply(status, Json.errorBody(message, null), retryAfter);
    }
  }

  private enum State {
    QUEUED,
    RUNNING,
    /** The timeout waits for the result. */
    EXPIRING,
    DONE
  }

  private final AsyncContext async;
  private final RenderPool pool;
  private final RenderBudget budget;
  private final Work work;
  private final Duration timeout;
  private final Duration retryAfter;
  private final String client;
  private final Runnable done;
  private State state = State.QUEUED;
  private Reply parked;
  private boolean written;

  private AsyncInjection(
      AsyncContext async,
      RenderPool pool,
      RenderBudget budget,
      Work work,
      Duration timeout,
      Duration retryAfter,
      String client,
      Runnable done) {
    this.done = done;
    this.async = async;
    this.pool = pool;
    this.budget = budget;
    this.work = work;
    this.timeout = timeout;
    this.retryAfter = retryAfter;
    this.client = client;
  }

  /**
   * Leaves the request to {@code pool}; the Jetty thread returns at once.
   *
   * @param timeout from now until the request is answered whatever happens
   * @param retryAfter what a refused client is told to wait
   * @param done runs once the request is answered, however: frees what the request held
   */
  static void start(
      HttpServletRequest request,
      HttpServletResponse response,
      RenderPool pool,
      RenderBudget budget,
      Duration timeout,
      Duration retryAfter,
      Work work,
      Runnable done)
      throws IOException {
    AsyncContext async = request.startAsync(request, response);
    async.setTimeout(timeout.toMillis());
    AsyncInjection injection =
        new AsyncInjection(
            async, pool, budget, work, timeout, retryAfter, request.getRemoteAddr(), done);
    async.addListener(injection);
    if (!pool.offer(injection)) {
      injection.answerNow(
          Reply.error(503, "too many injections in progress; try again later", retryAfter));
    }
  }

  @Override
  public void run() {
    synchronized (this) {
      if (state != State.QUEUED) {
        return;
      }
      state = State.RUNNING;
    }
    Reply reply;
    try {
      Result result = work.run();
      reply = new Reply(result.status(), result.outcome(), null);
    } catch (RequestException e) {
      reply = new Reply(e.status(), Json.errorBody(e.getMessage(), e.field()), null);
    } catch (RuntimeException | StackOverflowError e) {
      LOG.error("Injection from {} failed", client, e);
      reply = Reply.error(500, "internal error; the server's log has the details", null);
    }
    finish(reply);
  }

  private void finish(Reply reply) {
    synchronized (this) {
      switch (state) {
        case RUNNING -> state = State.DONE;
        case EXPIRING -> {
          parked = reply;
          notifyAll();
          return;
        }
        default -> {
          LOG.warn(
              "Injection from {} ended after its client was answered or left: {}",
              client,
              reply.body() instanceof Injector.Outcome outcome
                  ? outcome.successCount() + " recipients queued, " + outcome.failCount() + " not"
                  : "status " + reply.status());
          return;
        }
      }
    }
    write(reply);
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    budget.cancel("the request took longer than " + timeout.toSeconds() + "s (request_timeout)");
    Reply reply;
    synchronized (this) {
      switch (state) {
        case QUEUED -> {
          state = State.DONE;
          pool.withdraw(this);
          reply =
              Reply.error(
                  503,
                  "no render thread was free within request_timeout; try again later",
                  retryAfter);
        }
        case RUNNING -> {
          state = State.EXPIRING;
          awaitParked();
          state = State.DONE;
          reply =
              parked != null
                  ? parked
                  : Reply.error(
                      503,
                      "the request took longer than request_timeout; recipients accepted until"
                          + " then are queued",
                      null);
        }
        default -> {
          // Answered already: the answer may still be being written on another thread. Returning
          // before it completes the request would let the container answer 500 over it.
          awaitWritten();
          return;
        }
      }
    }
    write(reply);
  }

  private void awaitWritten() {
    long deadline = System.nanoTime() + GRACE_MILLIS * 1_000_000;
    try {
      for (long left = GRACE_MILLIS; !written && left > 0; ) {
        wait(left);
        left = (deadline - System.nanoTime()) / 1_000_000;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void awaitParked() {
    long deadline = System.nanoTime() + GRACE_MILLIS * 1_000_000;
    try {
      for (long left = GRACE_MILLIS; parked == null && left > 0; ) {
        wait(left);
        left = (deadline - System.nanoTime()) / 1_000_000;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void onError(AsyncEvent event) {
    budget.cancel("the client went away");
    synchronized (this) {
      if (state == State.DONE) {
        return;
      }
      state = State.DONE;
    }
    pool.withdraw(this);
    LOG.info("Injection from {} failed on the connection: {}", client, event.getThrowable());
    complete();
  }

  @Override
  public void onComplete(AsyncEvent event) {
    done.run();
  }

  @Override
  public void onStartAsync(AsyncEvent event) {}

  private void answerNow(Reply reply) {
    synchronized (this) {
      state = State.DONE;
    }
    write(reply);
  }

  private void write(Reply reply) {
    try {
      HttpServletResponse response = (HttpServletResponse) async.getResponse();
      if (reply.retryAfter() != null) {
        response.setHeader(
            "Retry-After", String.valueOf(Math.max(1, reply.retryAfter().toSeconds())));
      }
      Json.write(response, reply.status(), reply.body());
    } catch (IOException | IllegalStateException e) {
      // The client left, or the container gave up on the request.
      LOG.debug("The answer to an injection from {} could not be written", client, e);
    } finally {
      complete();
      synchronized (this) {
        written = true;
        notifyAll();
      }
    }
  }

  private void complete() {
    try {
      async.complete();
    } catch (IllegalStateException e) {
      LOG.debug("The injection from {} was completed already", client, e);
    }
  }
}
