package org.postilion.smtp.listener;

import java.util.List;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;

/**
 * DATA into a reception buffer of the queue manager's (memory up to a budget, then a temporary
 * file) instead of James's byte array, so that many large messages at once cannot exhaust the heap.
 * When the server has no room for another message, DATA is answered 451 4.3.1.
 */
final class BufferedDataCmdHandler extends DataCmdHandler {
  private static final String DATA_READY = "Ok Send data ending with <CRLF>.<CRLF>";

  private final Reception reception;
  private final Refusals refusals;

  BufferedDataCmdHandler(MetricFactory metrics, Reception reception, Refusals refusals) {
    super(metrics);
    this.reception = reception;
    this.refusals = refusals;
  }

  @Override
  protected Response doDATA(SMTPSession session, String argument) {
    ContentBuffer buffer;
    try {
      buffer = SessionBuffer.open(session, reception);
    } catch (ReceptionException e) {
      return refusals.refuse(e.reason() != null ? e.reason() : "no_room", e.response(), session);
    }
    MaybeSender sender =
        session
            .getAttachment(SMTPSession.SENDER, State.Transaction)
            .orElse(MaybeSender.nullSender());
    List<MailAddress> recipients =
        session.getAttachment(SMTPSession.RCPT_LIST, State.Transaction).orElse(List.of());
    session.setAttachment(
        MAILENV, new BufferedEnvelope(sender, recipients, buffer), State.Transaction);
    session.pushLineHandler(getLineHandler());
    return new SMTPResponse("354", DATA_READY);
  }
}
