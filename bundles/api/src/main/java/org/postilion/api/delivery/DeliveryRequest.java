package org.postilion.api.delivery;

import java.util.List;
import java.util.Objects;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;

/**
 * One delivery attempt of one message to some of its recipients, all in the same queue.
 *
 * @param attempt 1 for the first attempt
 * @param source the egress source chosen from the queue's pool for this attempt
 */
public record DeliveryRequest(
    String messageId,
    String sender,
    List<String> recipients,
    QueueName queue,
    QueueConfig config,
    int attempt,
    MessageContent content,
    EgressSource source) {

  public DeliveryRequest {
    recipients = List.copyOf(recipients);
    Objects.requireNonNull(source, "source");
  }
}
