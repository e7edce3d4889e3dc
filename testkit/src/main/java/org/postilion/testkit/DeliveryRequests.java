package org.postilion.testkit;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.queue.RetrySchedule;

/**
 * First delivery attempts of message {@code m1} from {@code a@sender.test}, as the queue manager
 * hands them to a protocol, with the content in memory and the queue configuration from {@code
 * test.cfg}.
 */
public final class DeliveryRequests {
  private DeliveryRequests() {}

  /**
   * @param keys the queue configuration's keys for the protocol
   * @param domain the queue's domain
   */
  public static DeliveryRequest of(
      String protocol,
      Map<String, String> keys,
      byte[] content,
      String domain,
      EgressSource source,
      List<String> recipients) {
    QueueConfig config =
        new QueueConfig(
            "test.cfg",
            protocol,
            new RetrySchedule(Duration.ofMinutes(1), null),
            Duration.ofDays(1),
            null,
            null,
            keys);
    MessageContent body =
        new MessageContent() {
          @Override
          public InputStream open() {
            return new ByteArrayInputStream(content);
          }

          @Override
          public long size() {
            return content.length;
          }
        };
    return new DeliveryRequest(
        "m1",
        "a@sender.test",
        recipients,
        QueueName.of(null, null, domain),
        config,
        1,
        body,
        source);
  }
}
