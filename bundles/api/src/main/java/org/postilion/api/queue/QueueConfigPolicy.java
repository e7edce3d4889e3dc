package org.postilion.api.queue;

/**
 * Adjusts a queue's configuration after the cfg files have been matched, like KumoMTA's
 * get_queue_config: a route or a plugin may pick another protocol, smarthost list or limit for some
 * mail. Found as services (the whiteboard pattern) and asked each time the queue manager needs a
 * queue's configuration, so they must answer quickly.
 */
public interface QueueConfigPolicy {

  /**
   * The configuration to use for {@code queue}; {@code config} itself when there is nothing to
   * change. An exception leaves {@code config} in force.
   */
  QueueConfig adjust(QueueName queue, QueueConfig config);
}
