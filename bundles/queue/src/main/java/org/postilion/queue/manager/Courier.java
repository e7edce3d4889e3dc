package org.postilion.queue.manager;

import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.spool.MessageRecord;

/** What a ready queue's thread needs around a delivery: the message, and its outcome booked. */
interface Courier {

  /**
   * A delivery about to be attempted, with what the spool holds of its message.
   *
   * @param sessionId the id of the session that carried it, for its records; null before that
   */
  record Attempt(
      Delivery delivery, MessageRecord message, DeliveryRequest request, String sessionId) {

    Attempt(Delivery delivery, MessageRecord message, DeliveryRequest request) {
      this(delivery, message, request, null);
    }

    Attempt inSession(String id) {
      return new Attempt(delivery, message, request, id);
    }
  }

  /**
   * Reads what the attempt needs from the spool; null when the message is no longer there (an admin
   * bounce took it meanwhile), which is then accounted for.
   */
  Attempt prepare(Delivery delivery);

  /**
   * Books the outcome: {@code result}, or {@code failure} for every recipient. Returns once it is
   * in the spool, so that a crash can repeat at most the deliveries under way.
   */
  void book(Attempt attempt, DeliveryResult result, Throwable failure);

  /**
   * The delivery was not attempted: its ready queue closed while it waited there, or for a session
   * or a slot. It goes back to its scheduled queue as it was, with no attempt counted.
   */
  void giveBack(Delivery delivery);
}
