package org.postilion.queue.manager;

import java.time.Instant;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.shaping.ShapingSettings;

/**
 * A batch on its way through a ready queue: where it goes, from where, under which configuration
 * and limits, all fixed when it left its scheduled queue.
 */
record Delivery(
    Batch batch,
    QueueName queue,
    QueueConfig config,
    EgressSource source,
    Site site,
    ShapingSettings shaping,
    Instant readySince) {

  ReadyQueueKey key() {
    return new ReadyQueueKey(config.protocol(), site.name(), site.variant(), source.name());
  }
}
