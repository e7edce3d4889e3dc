package org.postilion.smtp.listener;

import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler;
import org.postilion.support.security.FailedAuthThrottle;

/**
 * AUTH PLAIN and LOGIN, taken only over TLS unless the listener allows plain text, and refused to
 * an address that failed too often lately.
 */
final class SmtpAuthCmdHandler extends AuthCmdHandler {
  private static final org.postilion.api.delivery.Response LOCKED =
      org.postilion.api.delivery.Response.of(
          421, "4.7.0", "too many failed authentication attempts, try again later");

  private final ListenerSettings settings;
  private final FailedAuthThrottle throttle;
  private final Refusals refusals;

  SmtpAuthCmdHandler(ListenerSettings settings, FailedAuthThrottle throttle, Refusals refusals) {
    this.settings = settings;
    this.throttle = throttle;
    this.refusals = refusals;
  }

  @Override
  public Response onCommand(SMTPSession session, Request request) {
    if (!session.isTLSStarted() && !settings.authAllowPlaintext()) {
      // RFC 4954 section 6.
      return new SMTPResponse(
          "538", "5.7.11 Encryption required for requested authentication mechanism");
    }
    String client = session.getRemoteAddress().getAddress().getHostAddress();
    if (throttle.locked(client)) {
      SMTPResponse response = refusals.refuse("auth_locked", LOCKED, session);
      response.setEndSession(true);
      return response;
    }
    return super.onCommand(session, request);
  }
}
