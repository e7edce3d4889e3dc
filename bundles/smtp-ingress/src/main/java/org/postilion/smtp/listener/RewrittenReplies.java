package org.postilion.smtp.listener;

import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.RcptCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.EhloCmdHandler;

/** James's EHLO and RCPT handlers with the text of their replies put right. */
final class RewrittenReplies {
  private RewrittenReplies() {}

  /** James answers {@code Hello name [1.2.3.4])}, with a stray parenthesis. */
  static final class Ehlo extends EhloCmdHandler {
    Ehlo(MetricFactory metrics) {
      super(metrics);
    }

    @Override
    protected Response doCoreCmd(SMTPSession session, String command, String parameters) {
      return rewrite(
          super.doCoreCmd(session, command, parameters),
          line -> line.endsWith("])") ? line.substring(0, line.length() - 1) : line);
    }
  }

  /**
   * Under SMTPUTF8 James has parsed an ASCII stand-in of the address ({@code smtputf8.1@...}); the
   * client hears back the address it sent.
   */
  static final class Rcpt extends RcptCmdHandler {
    Rcpt(MetricFactory metrics) {
      super(metrics);
    }

    @Override
    protected Response doCoreCmd(SMTPSession session, String command, String parameters) {
      Response response = super.doCoreCmd(session, command, parameters);
      if (!SmtpUtf8.declared(session)) {
        return response;
      }
      return rewrite(response, line -> SmtpUtf8.restoreStandIns(session, line));
    }
  }

  /** The same reply with its first line changed; other lines, code and session end kept. */
  static Response rewrite(Response response, UnaryOperator<String> firstLine) {
    if (response == null) {
      return null;
    }
    List<CharSequence> lines = response.getLines();
    if (lines.isEmpty()) {
      return response;
    }
    String code = response.getRetCode();
    String first = lines.get(0).toString().substring(Math.min(4, lines.get(0).length()));
    String fixed = firstLine.apply(first);
    if (fixed.equals(first)) {
      return response;
    }
    SMTPResponse rewritten = new SMTPResponse(code, fixed);
    for (int i = 1; i < lines.size(); i++) {
      CharSequence line = lines.get(i);
      rewritten.appendLine(line.subSequence(Math.min(4, line.length()), line.length()));
    }
    rewritten.setEndSession(response.isEndSession());
    return rewritten;
  }
}
