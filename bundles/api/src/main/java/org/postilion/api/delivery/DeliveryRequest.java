package org.postilion.api.delivery;

import java.util.List;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;

/**
 * One delivery attempt of one message to some of its recipients, all in the same queue.
 *
 * @param attempt 1 for the first attempt
 */
public record DeliveryRequest(
    String messageId,
    String sender,
    List<String> recipients,
    QueueName queue,
    QueueConfig config,
    int attempt,
    MessageContent content) {

  public DeliveryRequest {
    recipients = List.copyOf(recipients);
  }
}
