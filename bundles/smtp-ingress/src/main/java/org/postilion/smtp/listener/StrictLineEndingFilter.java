package org.postilion.smtp.listener;

import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataLineFilter;

/**
 * Refuses message data with a bare LF or a bare CR. James's framer splits lines on LF alone and
 * ends DATA on any short line starting with a dot, so a lenient server can be made to see a
 * different end of message than the next hop does (SMTP smuggling). Like Postfix's
 * smtpd_forbid_bare_newline, the answer is a 521 and the end of the session.
 */
final class StrictLineEndingFilter implements DataLineFilter {

  @Override
  public Response onLine(SMTPSession session, byte[] line, LineHandler<SMTPSession> next) {
    if (hasStrictCrlf(line)) {
      return next.onLine(session, line);
    }
    session.popLineHandler();
    session.resetState();
    SMTPResponse response =
        new SMTPResponse("521", "5.5.2 bare <LF> or <CR> in message data: lines must end in CRLF");
    response.setEndSession(true);
    return response;
  }

  static boolean hasStrictCrlf(byte[] line) {
    int n = line.length;
    if (n < 2 || line[n - 2] != '\r' || line[n - 1] != '\n') {
      return false;
    }
    for (int i = 0; i < n - 2; i++) {
      if (line[i] == '\r' || line[i] == '\n') {
        return false;
      }
    }
    return true;
  }
}
