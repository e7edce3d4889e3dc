package org.postilion.api.reception;

import org.postilion.api.delivery.Response;

/**
 * Takes responsibility for messages: names their queues and spools them. Offered by the queue
 * manager to every ingress.
 */
public interface Reception {

  /**
   * A buffer to write an arriving message into, on the heap up to a budget and on disk beyond it.
   * The caller closes it once {@link #receive} has returned or the message was given up.
   *
   * @throws ReceptionException 451 4.3.1 when the server has no room for more mail in flight
   */
  default ContentBuffer buffer() throws ReceptionException {
    return ContentBuffer.inMemory();
  }

  /**
   * Spools the message for all its recipients and returns its id once it is durable. Blocks for the
   * disk write: never call it on a network event loop.
   *
   * @throws ReceptionException when the message is refused or cannot be stored; its response is
   *     what the client should be told
   */
  String receive(Submission submission) throws ReceptionException;

  /**
   * Spools a message another node transferred (an xfer) and returns its id here once it is durable.
   * Blocks for the disk write.
   *
   * @throws ReceptionException when it cannot be taken now (no room, a bad queue name)
   */
  default String receiveTransfer(Transfer transfer) throws ReceptionException {
    throw new ReceptionException(
        Response.of(503, "5.3.3", "this server does not take transferred mail"));
  }

  /**
   * Records that a listener turned a client or a command away. May write to disk: never call it on
   * a network event loop.
   */
  void refused(Refusal refusal);
}
