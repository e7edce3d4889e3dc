package org.postilion.smtp.listener;

import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.MailHook;

/** What a listener asks before MAIL: TLS first ({@code tls.required}), AUTH first. */
final class SubmissionPolicyHook implements MailHook {
  private static final HookResult TLS_FIRST =
      HookResult.builder()
          .hookReturnCode(HookReturnCode.deny())
          .smtpReturnCode("530")
          .smtpDescription("5.7.0 Must issue a STARTTLS command first")
          .build();
  private static final HookResult AUTH_FIRST =
      HookResult.builder()
          .hookReturnCode(HookReturnCode.deny())
          .smtpReturnCode("530")
          .smtpDescription("5.7.0 Authentication required")
          .build();

  private final ListenerSettings settings;

  SubmissionPolicyHook(ListenerSettings settings) {
    this.settings = settings;
  }

  @Override
  public HookResult doMail(SMTPSession session, MaybeSender sender) {
    if (settings.tlsRequired() && !session.isTLSStarted()) {
      return TLS_FIRST;
    }
    if (settings.requireAuth() && session.getUsername() == null) {
      return AUTH_FIRST;
    }
    return HookResult.DECLINED;
  }
}
