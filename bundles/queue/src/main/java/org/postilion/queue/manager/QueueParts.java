package org.postilion.queue.manager;

/**
 * The parts of a running queue manager that the operator's actions reach. The queue manager offers
 * it as a service of this bundle only (the package is not exported), for {@link Administration}.
 */
public interface QueueParts {
  Inspection inspection();

  Operations operations();

  Transfers transfers();

  AdminActions actions();

  ReadyQueues ready();

  QueueConfigs configs();

  QueueGauges gauges();

  /** Why reception refuses new mail now (disk or heap short), or {@code null}. */
  String receptionPaused();
}
