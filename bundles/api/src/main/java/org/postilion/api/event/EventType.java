package org.postilion.api.event;

/** Kinds of event record, written with KumoMTA's names. */
public enum EventType {
  RECEPTION("Reception"),
  DELIVERY("Delivery"),
  TRANSIENT_FAILURE("TransientFailure"),
  BOUNCE("Bounce"),
  EXPIRATION("Expiration"),
  ADMIN_BOUNCE("AdminBounce"),
  ADMIN_REBIND("AdminRebind"),
  REJECTION("Rejection"),
  DELAYED("Delayed"),
  OOB("OOB"),
  FEEDBACK("Feedback"),
  /** A message moved to another node by an xfer, once that node had it on disk. */
  XFER_OUT("XferOut"),
  /** A message moved here from another node by an xfer. */
  XFER_IN("XferIn");

  private final String recordName;

  EventType(String recordName) {
    this.recordName = recordName;
  }

  /** The name in the record's {@code type} field. */
  public String recordName() {
    return recordName;
  }
}
