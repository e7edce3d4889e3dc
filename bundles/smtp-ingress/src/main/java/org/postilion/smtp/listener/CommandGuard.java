package org.postilion.smtp.listener;

import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.smtp.SMTPSession;

/**
 * Refuses command lines with control characters (NUL, bare CR, ...) before they are parsed: they
 * have no place in SMTP commands, and a HELO name carrying them would end up in Received fields.
 * Lines with UTF-8 go through {@link SmtpUtf8} first.
 */
final class CommandGuard extends CommandDispatcher<SMTPSession> {

  @Override
  public Response onLine(SMTPSession session, byte[] line) {
    if (!isClean(line)) {
      return new ErrorLimit.BadCommandResponse("500", "5.5.2 Invalid character in command");
    }
    if (SmtpUtf8.isAscii(line)) {
      SmtpUtf8.noteAsciiMail(session, line);
      return super.onLine(session, line);
    }
    SmtpUtf8.Rewritten rewritten = SmtpUtf8.rewrite(session, line);
    return rewritten.refusal() != null
        ? rewritten.refusal()
        : super.onLine(session, rewritten.line());
  }

  /** True when only the final CRLF (or LF) is a control character. */
  static boolean isClean(byte[] line) {
    int end = line.length;
    if (end > 0 && line[end - 1] == '\n') {
      end--;
    }
    if (end > 0 && line[end - 1] == '\r') {
      end--;
    }
    for (int i = 0; i < end; i++) {
      int b = line[i] & 0xff;
      if ((b < 0x20 && b != '\t') || b == 0x7f) {
        return false;
      }
    }
    return true;
  }
}
