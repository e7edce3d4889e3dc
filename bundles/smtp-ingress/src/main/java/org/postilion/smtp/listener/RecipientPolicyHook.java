package org.postilion.smtp.listener;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.dsn.DSNStatus;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.RcptHook;

/**
 * Decides every RCPT: relay clients may send anywhere, everyone else only to the relay domains.
 * James accepts a recipient that no hook denies, so this hook never declines: it is the only thing
 * standing between the listener and an open relay.
 */
final class RecipientPolicyHook implements RcptHook {
  private static final HookResult RELAY_DENIED =
      HookResult.builder()
          .hookReturnCode(HookReturnCode.deny())
          .smtpReturnCode("550")
          .smtpDescription(
              DSNStatus.getStatus(DSNStatus.PERMANENT, DSNStatus.SECURITY_AUTH)
                  + " relaying denied")
          .build();
  private static final HookResult TOO_MANY =
      HookResult.builder()
          .hookReturnCode(HookReturnCode.denySoft())
          .smtpReturnCode("452")
          .smtpDescription(
              DSNStatus.getStatus(DSNStatus.TRANSIENT, DSNStatus.DELIVERY_TOO_MANY_REC)
                  + " too many recipients")
          .build();

  private final ListenerSettings settings;
  private final Refusals refusals;

  RecipientPolicyHook(ListenerSettings settings, Refusals refusals) {
    this.settings = settings;
    this.refusals = refusals;
  }

  @Override
  public HookResult doRcpt(SMTPSession session, MaybeSender sender, MailAddress rcpt) {
    if (session.getRcptCount() >= settings.maxRecipients()) {
      return refused(session, "max_recipients", rcpt, TOO_MANY);
    }
    if (settings.receivesReports()) {
      // A report listener takes mail for its report domains only, from anyone, and never relays.
      return settings.isReportDomain(rcpt.getDomain().asString())
          ? HookResult.OK
          : refused(session, "relay_denied", rcpt, RELAY_DENIED);
    }
    if (session.isRelayingAllowed() || settings.acceptsDomain(rcpt.getDomain().asString())) {
      return HookResult.OK;
    }
    return refused(session, "relay_denied", rcpt, RELAY_DENIED);
  }

  /** Records the refusal of this recipient, named in the record, and returns the reply. */
  private HookResult refused(
      SMTPSession session, String reason, MailAddress rcpt, HookResult result) {
    String description = result.getSmtpDescription();
    int space = description.indexOf(' ');
    refusals.recipientRefused(
        reason,
        org.postilion.api.delivery.Response.of(
            Integer.parseInt(result.getSmtpRetCode()),
            description.substring(0, space),
            description.substring(space + 1)),
        session,
        SmtpUtf8.original(session, rcpt.asString()));
    return result;
  }
}
