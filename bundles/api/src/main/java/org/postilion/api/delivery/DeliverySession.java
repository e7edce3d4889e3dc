package org.postilion.api.delivery;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A session to one site, opened by {@link DeliveryProtocol#open}: an SMTP or LMTP connection, an
 * HTTP client, a folder. Used by one thread of a ready queue at a time, for up to {@code
 * max_deliveries_per_connection} messages, and closed when that is reached, when the session has
 * been idle for the site's idle timeout, or when it reports it can no longer be used.
 */
public interface DeliverySession extends AutoCloseable {

  /**
   * Delivers one message to the recipients of {@code request}. Blocks until the outcome is known,
   * within the protocol's own timeouts for every step.
   *
   * @return one result per recipient of the request
   * @throws DeliveryException when nothing could be delivered; its response applies to every
   *     recipient. {@link DeliveryException#beforeTransaction()} on a session that had carried mail
   *     before says a kept connection had been dropped by the site: the ready queue tries once more
   *     on a fresh session.
   */
  DeliveryResult deliver(DeliveryRequest request) throws DeliveryException;

  /** Whether the session can carry another message; a broken connection cannot. */
  default boolean isUsable() {
    return true;
  }

  /**
   * Ends the session at once from another thread, for an operator (KumoMTA's abort-ready-q-conn):
   * closes its connection, so that a delivery blocked on it fails now. The ready queue's thread
   * then books that failure and calls {@link #close}. The default does nothing, for sessions that
   * never block long (a folder). Never throws.
   */
  default void abort() {}

  /** Ends the session politely (QUIT) and frees it; never throws. */
  @Override
  void close();

  /**
   * Waits for a result a protocol produces asynchronously (a Camel exchange, an HTTP call), as a
   * session's {@link #deliver} must return it. Past {@code limit} the attempt fails transiently, so
   * the ready queue's thread is free again even when the stage never completes.
   */
  static DeliveryResult await(CompletionStage<DeliveryResult> stage, Duration limit)
      throws DeliveryException {
    try {
      return stage.toCompletableFuture().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DeliveryException(
          Response.of(451, "4.3.0", "delivery interrupted: the server is stopping"), false, e);
    } catch (TimeoutException e) {
      throw new DeliveryException(
          Response.of(451, "4.4.1", "no outcome within " + limit), false, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof DeliveryException failure) {
        throw failure;
      }
      throw new DeliveryException(
          Response.of(451, "4.4.0", "delivery failed: " + cause), false, cause);
    }
  }
}
