package org.postilion.api.delivery;

/** What became of one recipient in one delivery attempt. */
public enum Disposition {
  /** The destination took responsibility for the message: it leaves the queue. */
  DELIVERED,
  /** Try again later on the queue's retry schedule. */
  TRANSIENT_FAILURE,
  /** Never try again: the message ends with a Bounce record. */
  PERMANENT_FAILURE
}
