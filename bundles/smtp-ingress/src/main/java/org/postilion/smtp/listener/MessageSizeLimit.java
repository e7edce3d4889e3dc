package org.postilion.smtp.listener;

import java.util.List;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.MailParametersHook;

/**
 * {@code max_message_size}: advertised as SIZE (RFC 1870), checked against a declared {@code SIZE=}
 * at MAIL and counted while the data arrives. A message that grows past it is read on and dropped,
 * its buffer freed at once, and the client hears 552 5.3.4 after its final dot. Every refusal is a
 * Rejection record.
 */
final class MessageSizeLimit implements MailParametersHook, EhloExtension, DataLineFilter {
  /** Octets of the current message so far; negative once it went over the limit. */
  private static final ProtocolSession.AttachmentKey<long[]> SEEN =
      ProtocolSession.AttachmentKey.of("postilion.size.seen", long[].class);

  private final ListenerSettings settings;
  private final Refusals refusals;

  MessageSizeLimit(ListenerSettings settings, Refusals refusals) {
    this.settings = settings;
    this.refusals = refusals;
  }

  @Override
  public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
    return List.of("SIZE " + settings.maxMessageSize());
  }

  @Override
  public String[] getMailParamNames() {
    return new String[] {"SIZE"};
  }

  @Override
  public HookResult doMailParameter(SMTPSession session, String name, String value) {
    long declared;
    try {
      declared = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      declared = -1;
    }
    if (declared < 0) {
      return refusal(
          session,
          "bad_size_parameter",
          org.postilion.api.delivery.Response.of(501, "5.5.4", "syntax error in SIZE parameter"),
          HookReturnCode.deny());
    }
    if (declared > settings.maxMessageSize()) {
      return refusal(
          session,
          "max_message_size",
          org.postilion.api.delivery.Response.of(
              552, "5.3.4", "message size exceeds fixed maximum message size"),
          HookReturnCode.deny());
    }
    return HookResult.DECLINED;
  }

  private HookResult refusal(
      SMTPSession session,
      String reason,
      org.postilion.api.delivery.Response response,
      HookReturnCode code) {
    refusals.sessionRefused(reason, response, session);
    return HookResult.builder()
        .hookReturnCode(code)
        .smtpReturnCode(String.valueOf(response.code()))
        .smtpDescription(response.enhancedCode() + " " + response.content())
        .build();
  }

  @Override
  public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
    long[] seen = session.getAttachment(SEEN, State.Transaction).orElse(null);
    if (seen == null) {
      seen = new long[1];
      session.setAttachment(SEEN, seen, State.Transaction);
    }
    boolean end = line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n';
    if (seen[0] < 0) {
      if (!end) {
        return null;
      }
      // Recorded before the transaction is reset, so the record names its envelope.
      Response refused =
          refusals.refuse(
              "max_message_size",
              org.postilion.api.delivery.Response.of(
                  552, "5.3.4", "message exceeds " + settings.maxMessageSize() + " octets"),
              session);
      session.popLineHandler();
      session.resetState();
      return refused;
    }
    if (!end) {
      // The dot of a stuffed line is not part of the message, but counting it is harmless.
      seen[0] += line.length;
      if (seen[0] > settings.maxMessageSize()) {
        seen[0] = -1;
        SessionBuffer.close(session);
        return null;
      }
    }
    return next.onLine(session, line);
  }
}
