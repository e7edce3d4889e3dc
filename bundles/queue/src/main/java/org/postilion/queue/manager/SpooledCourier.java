package org.postilion.queue.manager;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ExecutionException;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads each delivery's message from the spool on the ready queue's own thread, and has its outcome
 * booked before the thread takes another message, so that after a crash only the deliveries under
 * way can go out twice.
 */
final class SpooledCourier implements Courier {
  private static final Logger LOG = LoggerFactory.getLogger(SpooledCourier.class);

  private final Spool spool;
  private final MessageCache cache;
  private final Outcomes outcomes;
  private final InFlight inFlight;
  private final QueueGauges gauges;
  private final Scheduler scheduler;

  SpooledCourier(
      Spool spool,
      MessageCache cache,
      Outcomes outcomes,
      InFlight inFlight,
      QueueGauges gauges,
      Scheduler scheduler) {
    this.scheduler = scheduler;
    this.spool = spool;
    this.cache = cache;
    this.outcomes = outcomes;
    this.inFlight = inFlight;
    this.gauges = gauges;
  }

  @Override
  public Attempt prepare(Delivery delivery) {
    Batch batch = delivery.batch();
    MessageCache.Cached cached = cache.get(batch.messageId());
    if (cached != null) {
      return attempt(delivery, cached.message(), MessageContent.of(cached.content()));
    }
    MessageRecord message;
    try {
      message = spool.message(batch.messageId()).orElse(null);
    } catch (SpoolException e) {
      LOG.error("Cannot read message {} for delivery", batch.messageId(), e);
      book(new Attempt(delivery, null, null), null, e);
      return null;
    }
    if (message == null) {
      LOG.warn("Message {} is no longer in the spool; dropping its schedule", batch.messageId());
      batch.entries().forEach(gauges::removed);
      inFlight.end(batch);
      return null;
    }
    return attempt(delivery, message, new SpooledContent(spool, message));
  }

  private static Attempt attempt(Delivery delivery, MessageRecord message, MessageContent content) {
    Batch batch = delivery.batch();
    DeliveryRequest request =
        new DeliveryRequest(
            message.id(),
            message.sender(),
            batch.recipients(),
            delivery.queue(),
            delivery.config(),
            batch.attempts() + 1,
            content,
            delivery.source());
    return new Attempt(delivery, message, request);
  }

  @Override
  public void book(Attempt attempt, DeliveryResult result, Throwable failure) {
    Delivery delivery = attempt.delivery();
    try {
      outcomes.await(
          outcomes.attempted(
              delivery.batch(),
              attempt.message(),
              delivery.config(),
              delivery.batch().attempts() + 1,
              new Records.Path(
                  delivery.site().name(), delivery.source().name(), attempt.sessionId()),
              result,
              failure));
    } catch (ExecutionException e) {
      LOG.error(
          "The outcome of {} was not booked; it stays in the spool for the next start",
          delivery.batch(),
          e);
    }
  }

  @Override
  public void giveBack(Delivery delivery) {
    // At shutdown the scheduler is closed and takes it to no one: it is read from the spool again.
    inFlight.end(delivery.batch());
    scheduler.add(delivery.batch());
  }

  /** The bytes of a spooled message, read from the spool on each open. */
  private record SpooledContent(Spool spool, MessageRecord message) implements MessageContent {
    @Override
    public InputStream open() throws IOException {
      try {
        return spool.openContent(message.id());
      } catch (SpoolException e) {
        throw new IOException(e.getMessage(), e);
      }
    }

    @Override
    public long size() {
      return message.size();
    }
  }
}
