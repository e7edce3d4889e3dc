package org.postilion.smtp.listener;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;

/**
 * Refuses a message whose header section exceeds {@code max_header_size}. The rest of the message
 * is read and dropped, and the client hears 552 after its final dot, as for an oversized message.
 */
final class HeaderSizeFilter implements DataLineFilter {
  private static final ProtocolSession.AttachmentKey<Long> HEADER_BYTES =
      ProtocolSession.AttachmentKey.of("postilion.header.bytes", Long.class);

  /** Negative once the header section has ended. */
  private static final long IN_BODY = -1;

  private static final long TOO_BIG = -2;

  private final ListenerSettings settings;
  private final Refusals refusals;

  HeaderSizeFilter(ListenerSettings settings, Refusals refusals) {
    this.settings = settings;
    this.refusals = refusals;
  }

  @Override
  public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
    long seen = session.getAttachment(HEADER_BYTES, State.Transaction).orElse(0L);
    boolean end = line.length == 3 && line[0] == '.' && line[1] == '\r';
    if (seen == TOO_BIG) {
      if (!end) {
        return null;
      }
      org.postilion.api.delivery.Response refusal =
          org.postilion.api.delivery.Response.of(
              552, "5.3.4", "header section exceeds " + settings.maxHeaderSize() + " octets");
      // Recorded before the transaction is reset, so the record names its envelope.
      Response refused = refusals.refuse("max_header_size", refusal, session);
      session.popLineHandler();
      session.resetState();
      return refused;
    }
    if (seen != IN_BODY && !end) {
      if (line.length == 2 && line[0] == '\r') {
        seen = IN_BODY;
      } else if (seen + line.length > settings.maxHeaderSize()) {
        session.setAttachment(HEADER_BYTES, TOO_BIG, State.Transaction);
        return null;
      } else {
        seen += line.length;
      }
      session.setAttachment(HEADER_BYTES, seen, State.Transaction);
    }
    return next.onLine(session, line);
  }
}
