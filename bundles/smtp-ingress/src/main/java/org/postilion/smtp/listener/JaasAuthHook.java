package org.postilion.smtp.listener;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.apache.james.core.Username;
import org.apache.james.protocols.api.OidcSASLConfiguration;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.AuthHook;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.postilion.api.delivery.Response;
import org.postilion.support.security.Authenticator;
import org.postilion.support.security.FailedAuthThrottle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks AUTH credentials against the JAAS realm. A user may relay anywhere; a role {@code
 * tenant.<name>} makes its messages the tenant's. A failure holds the 535 back a little longer each
 * time, so guessing is slow.
 */
final class JaasAuthHook implements AuthHook {
  private static final Logger LOG = LoggerFactory.getLogger(JaasAuthHook.class);
  static final ProtocolSession.AttachmentKey<String> TENANT =
      ProtocolSession.AttachmentKey.of("postilion.tenant", String.class);
  private static final String TENANT_ROLE = "tenant.";
  private static final Response FAILED =
      Response.of(535, "5.7.8", "Authentication credentials invalid");

  private final Authenticator authenticator;
  private final FailedAuthThrottle throttle;
  private final Refusals refusals;

  JaasAuthHook(Authenticator authenticator, FailedAuthThrottle throttle, Refusals refusals) {
    this.authenticator = authenticator;
    this.throttle = throttle;
    this.refusals = refusals;
  }

  @Override
  public HookResult doAuth(SMTPSession session, Username username, String password) {
    String client = session.getRemoteAddress().getAddress().getHostAddress();
    Optional<Set<String>> roles = authenticator.authenticate(username.asString(), password);
    if (roles.isEmpty()) {
      Duration delay = throttle.failed(client);
      ReplyDelay.delayNextReply(session, delay);
      refusals.sessionRefused("auth_failed", FAILED, session);
      LOG.info("AUTH failed for {} from {}", username.asString(), client);
      return HookResult.builder()
          .hookReturnCode(HookReturnCode.deny())
          .smtpReturnCode("535")
          .smtpDescription(FAILED.enhancedCode() + " " + FAILED.content())
          .build();
    }
    session.setUsername(username);
    session.setRelayingAllowed(true);
    roles.get().stream()
        .filter(role -> role.startsWith(TENANT_ROLE) && role.length() > TENANT_ROLE.length())
        .sorted()
        .findFirst()
        .ifPresent(
            role ->
                session.setAttachment(
                    TENANT, role.substring(TENANT_ROLE.length()), State.Connection));
    return HookResult.builder()
        .hookReturnCode(HookReturnCode.ok())
        .smtpReturnCode("235")
        .smtpDescription("2.7.0 Authentication successful")
        .build();
  }

  @Override
  public HookResult doSasl(
      SMTPSession session, OidcSASLConfiguration configuration, String initialResponse) {
    return HookResult.DECLINED;
  }
}
