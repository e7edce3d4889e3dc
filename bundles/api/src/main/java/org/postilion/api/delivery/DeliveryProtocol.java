package org.postilion.api.delivery;

/**
 * A way of delivering mail: SMTP, maildir, a webhook. Each protocol bundle registers one service of
 * this type with the service property {@value #PROTOCOL} naming it ({@code protocol=maildir}); a
 * queue configuration selects it by that name.
 *
 * <p>Threading: the queue manager calls {@link #deliver} on one of its own delivery threads, never
 * on a network event loop, and may call it concurrently for different messages. The method may
 * block for the duration of the attempt and should honour {@link Thread#interrupt()}, which the
 * queue manager uses when it shuts down.
 *
 * <p>Failures: an exception thrown by {@code deliver} counts as a transient failure of every
 * recipient of the request, with the exception's message in the record.
 */
public interface DeliveryProtocol {

  /** The service property that names the protocol. */
  String PROTOCOL = "protocol";

  /** Attempts delivery and reports one result per recipient of the request. */
  DeliveryResult deliver(DeliveryRequest request) throws Exception;
}
