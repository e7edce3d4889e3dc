package org.postilion.queue.manager;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventType;
import org.postilion.api.queue.QueueName;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Transfer;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mail another node moves here (its xfer): spooled as that node kept it (content, queue, schedule
 * and attempts), without a first reception's filters, signing or header changes, which it had
 * there; each recipient gets an XferIn record. The id is answered only once it is on disk, so the
 * other node removes its copy only then.
 */
final class TransferReceiver {
  private static final Logger LOG = LoggerFactory.getLogger(TransferReceiver.class);

  private final Spool spool;
  private final Scheduler scheduler;
  private final QueueGauges gauges;
  private final Records records;
  private final Clock clock;
  private final Receiver.Admission admission;
  private final Supplier<LogCapture> capture;

  TransferReceiver(
      Spool spool,
      Scheduler scheduler,
      QueueGauges gauges,
      Records records,
      Clock clock,
      Receiver.Admission admission,
      Supplier<LogCapture> capture) {
    this.spool = spool;
    this.scheduler = scheduler;
    this.gauges = gauges;
    this.records = records;
    this.clock = clock;
    this.admission = admission;
    this.capture = capture;
  }

  String receive(Transfer transfer) throws ReceptionException {
    if (transfer.recipients().isEmpty() || transfer.recipients().size() > Transfer.MAX_RECIPIENTS) {
      throw refused("between 1 and " + Transfer.MAX_RECIPIENTS + " recipients per transfer");
    }
    QueueName queue;
    try {
      queue = QueueName.parse(transfer.queue());
    } catch (IllegalArgumentException e) {
      throw refused("not a queue name: " + e.getMessage());
    }
    // The queue's tenant and campaign reach file paths and labels: the same rules as at reception.
    if (!Receiver.hasSafeParts(queue)) {
      throw refused("unsafe tenant or campaign in queue " + transfer.queue());
    }
    admission.check();
    Instant now = Instant.now(clock);
    String id = MessageIds.next(now.toEpochMilli());
    byte[] head = MessageHead.read(transfer.content());
    LogCapture logged = capture.get();
    MessageRecord message =
        new MessageRecord(
            id,
            transfer.sender(),
            transfer.created() == null ? now : transfer.created(),
            transfer.content().size(),
            queue.tenant(),
            queue.campaign(),
            "XFER",
            logged.headers(head),
            logged.meta(
                Map.of(
                    "xfer_source_node", String.valueOf(transfer.sourceNode()),
                    "xfer_source_id", String.valueOf(transfer.sourceId()))));
    Instant due = transfer.due() == null || transfer.due().isBefore(now) ? now : transfer.due();
    int attempts = Math.max(0, transfer.attempts());
    List<QueueEntry> entries = new ArrayList<>();
    for (int i = 0; i < transfer.recipients().size(); i++) {
      entries.add(
          new QueueEntry(
              new EntryKey(id, i),
              transfer.recipients().get(i),
              queue.toString(),
              message.created(),
              due,
              attempts));
    }
    try (InputStream content = transfer.content().open()) {
      spool.store(message, entries, content);
    } catch (IOException | SpoolException e) {
      LOG.error("Could not spool mail transferred from {}", transfer.peerAddress(), e);
      throw new ReceptionException(Receiver.CANNOT_QUEUE, e);
    }
    Response response =
        Response.of(
            250,
            "2.0.0",
            "transferred from node " + transfer.sourceNode() + " (" + transfer.sourceId() + ")");
    for (QueueEntry entry : entries) {
      gauges.added(entry);
      records.publish(records.ended(EventType.XFER_IN, message, entry, response, null));
    }
    scheduler.add(Batch.of(entries));
    return id;
  }

  private static ReceptionException refused(String why) {
    return new ReceptionException(Response.of(554, "5.6.0", "transfer refused: " + why));
  }
}
