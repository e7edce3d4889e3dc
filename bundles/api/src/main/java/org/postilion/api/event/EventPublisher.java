package org.postilion.api.event;

/**
 * Puts records that do not come from the queue manager's own work (an OOB or Feedback record read
 * from a returned report) on the same bus as its records: the event log, the event webhooks and the
 * {@code direct:events} route get them like any other. Offered by the queue manager.
 */
public interface EventPublisher {
  /**
   * Publishes a record, with this node's id when the record has none. Never blocks for long: when
   * subscribers fall behind, records wait on disk.
   */
  void publish(EventRecord record);
}
