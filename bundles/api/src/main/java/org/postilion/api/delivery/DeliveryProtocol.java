package org.postilion.api.delivery;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.postilion.api.admin.ReadyQueueStatus;

/**
 * A way of delivering mail: SMTP, maildir, a webhook. Each protocol bundle registers one service of
 * this type with the service property {@value #PROTOCOL} naming it ({@code protocol=maildir}); a
 * queue configuration selects it by that name.
 *
 * <p>Threading: the queue manager calls {@link #deliver} on one of its own delivery threads, never
 * on a network event loop, and may call it concurrently for different messages. A protocol whose
 * work is quick and local (maildir) may do it in the call and return a completed stage. A protocol
 * that waits on the network (SMTP) must not hold the caller's thread for it: it queues the work on
 * threads of its own, per destination, so a slow destination never holds up the others, and
 * completes the stage when the attempt is over.
 *
 * <p>Failures: a stage completed exceptionally, or an exception thrown by {@code deliver}, counts
 * as a transient failure of every recipient of the request, with the exception in the record. When
 * the protocol service goes away, stages it never completes are treated the same way.
 */
public interface DeliveryProtocol {

  /** The service property that names the protocol. */
  String PROTOCOL = "protocol";

  /** Attempts delivery; the stage yields one result per recipient of the request. */
  CompletionStage<DeliveryResult> deliver(DeliveryRequest request);

  /** The protocol's ready queues, for the queue summary; none for a protocol without any. */
  default List<ReadyQueueStatus> readyQueues() {
    return List.of();
  }
}
