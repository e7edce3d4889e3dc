package org.postilion.smtp.listener;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.api.handler.ProtocolHandlerResultHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;

/**
 * Ends a session after {@code max_bad_commands} replies of 500 to 504 (unknown commands, syntax
 * errors, bad sequence), like Postfix's smtpd_hard_error_limit: a client that speaks no SMTP should
 * not keep a connection busy.
 */
final class ErrorLimit implements ProtocolHandlerResultHandler<Response, SMTPSession> {
  private static final ProtocolSession.AttachmentKey<Integer> BAD_COMMANDS =
      ProtocolSession.AttachmentKey.of("postilion.bad.commands", Integer.class);

  private final ListenerSettings settings;
  private final Refusals refusals;

  ErrorLimit(ListenerSettings settings, Refusals refusals) {
    this.settings = settings;
    this.refusals = refusals;
  }

  @Override
  public Response onResponse(
      ProtocolSession session, Response response, long executionTime, ProtocolHandler handler) {
    boolean countable =
        response instanceof BadCommandResponse
            || (handler instanceof CommandHandler && isSyntaxError(response));
    if (!countable || response.isEndSession()) {
      return response;
    }
    int bad = session.getAttachment(BAD_COMMANDS, State.Connection).orElse(0) + 1;
    session.setAttachment(BAD_COMMANDS, bad, State.Connection);
    if (bad < settings.maxBadCommands()) {
      return response;
    }
    org.postilion.api.delivery.Response refusal =
        org.postilion.api.delivery.Response.of(421, "4.7.0", "too many errors");
    refusals.sessionRefused("max_bad_commands", refusal, (SMTPSession) session);
    SMTPResponse last =
        new SMTPResponse("421", "4.7.0 " + settings.hostname() + " Error: too many errors");
    last.setEndSession(true);
    return last;
  }

  private static boolean isSyntaxError(Response response) {
    String code = response.getRetCode();
    return code != null && code.length() == 3 && code.startsWith("50") && code.charAt(2) <= '4';
  }

  /** A reply to a line that was refused before any command handler saw it. */
  static final class BadCommandResponse extends SMTPResponse {
    BadCommandResponse(String code, String description) {
      super(code, description);
    }
  }
}
