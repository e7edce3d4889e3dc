package org.postilion.camel;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.ProducerTemplate;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code direct:events} hook: when a route consumes it, every event record is sent to it as its
 * JSON line (headers {@code type}, {@code recipient}, {@code queue}), from a thread of its own so
 * that mail flow never waits for a route. If routes fall more than {@value #BACKLOG} records
 * behind, records are dropped for them with a warning; the event log and the event webhooks, which
 * keep every record, are not affected.
 */
@Component
public class EventsRoute implements EventListener {
  private static final Logger LOG = LoggerFactory.getLogger(EventsRoute.class);
  static final String ENDPOINT = "direct://events";
  private static final int BACKLOG = 100_000;

  /** The runtime's shared template, which also names the context. */
  @Reference private ProducerTemplate producer;

  private ThreadPoolExecutor sender;
  private final AtomicLong dropped = new AtomicLong();

  @Activate
  void activate() {
    sender =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(BACKLOG),
            DaemonThreads.named("postilion-camel-events"));
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    sender.shutdown();
    sender.awaitTermination(10, TimeUnit.SECONDS);
  }

  @Override
  public void onEvent(EventRecord record) {
    if (!ReceptionRoute.consumed(producer.getCamelContext(), ENDPOINT)) {
      return;
    }
    try {
      sender.execute(() -> send(record));
    } catch (RejectedExecutionException e) {
      if (dropped.getAndIncrement() % 10_000 == 0) {
        LOG.warn(
            "direct:events routes are {} records behind; records are dropped for them", BACKLOG);
      }
    }
  }

  private void send(EventRecord record) {
    Exception failure =
        producer
            .send(
                "direct:events",
                exchange -> {
                  var message = exchange.getMessage();
                  message.setBody(record.toJson());
                  message.setHeader("type", record.type().recordName());
                  message.setHeader("recipient", record.recipient());
                  message.setHeader("queue", record.queue());
                })
            .getException();
    if (failure != null) {
      LOG.warn("A direct:events route failed on a {} record", record.type().recordName(), failure);
    }
  }
}
