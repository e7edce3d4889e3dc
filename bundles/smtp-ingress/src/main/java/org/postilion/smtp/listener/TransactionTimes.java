package org.postilion.smtp.listener;

import io.prometheus.metrics.core.metrics.Histogram;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.MailHook;
import org.postilion.api.metrics.MetricSet;

/**
 * KumoMTA's SMTP server latency histograms, shared by all listeners: {@code
 * smtpsrv_transaction_duration} (MAIL to the reply to the message), {@code
 * smtpsrv_read_data_duration} (receiving the message's data) and {@code
 * smtpsrv_process_data_duration} (from the end of the data to the reply: checks and making the
 * message durable). A hook on MAIL notes when each transaction began.
 */
final class TransactionTimes implements MailHook, AutoCloseable {
  private static final ProtocolSession.AttachmentKey<Long> MAIL_AT =
      ProtocolSession.AttachmentKey.of("postilion.mail.at", Long.class);

  private final MetricSet set = new MetricSet();
  private final Histogram transaction =
      set.latency("smtpsrv_transaction_duration", "how long an incoming SMTP transaction takes");
  private final Histogram readData =
      set.latency("smtpsrv_read_data_duration", "how long it takes to receive the DATA portion");
  private final Histogram processData =
      set.latency(
          "smtpsrv_process_data_duration",
          "how long it takes to process the DATA portion and enqueue");

  @Override
  public HookResult doMail(SMTPSession session, MaybeSender sender) {
    session.setAttachment(MAIL_AT, System.nanoTime(), State.Transaction);
    return HookResult.DECLINED;
  }

  /** The message's data arrived at {@code now}; its envelope was made when the data began. */
  void dataRead(BufferedEnvelope envelope, long now) {
    readData.observe((now - envelope.createdNanos()) / 1e9);
  }

  /** The reply to a message is ready: processing began at {@code started}. */
  void replied(SMTPSession session, long started) {
    long now = System.nanoTime();
    processData.observe((now - started) / 1e9);
    session
        .getAttachment(MAIL_AT, State.Transaction)
        .ifPresent(mailAt -> transaction.observe((now - mailAt) / 1e9));
  }

  @Override
  public void close() {
    set.close();
  }
}
