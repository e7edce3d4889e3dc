package org.postilion.smtp.listener;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.MailEnvelope;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.apache.james.protocols.smtp.hook.HookReturnCode;
import org.apache.james.protocols.smtp.hook.MessageHook;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.Response;
import org.postilion.api.reception.NoRoomException;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands each message to the queue manager and answers 250 only once it is in the spool. Runs on the
 * listener's worker threads, never on a Netty I/O loop: the spool write blocks.
 */
final class SpoolingMessageHook implements MessageHook {
  private static final Logger LOG = LoggerFactory.getLogger(SpoolingMessageHook.class);

  /** Where a listener's messages go: the queue manager, or the report inbox. */
  @FunctionalInterface
  interface Destination {
    String receive(Submission submission) throws ReceptionException;
  }

  private final Destination destination;
  private final TransactionTimes times;

  SpoolingMessageHook(Destination destination, TransactionTimes times) {
    this.destination = destination;
    this.times = times;
  }

  @Override
  public HookResult onMessage(SMTPSession session, MailEnvelope mail) {
    long started = System.nanoTime();
    if (mail instanceof BufferedEnvelope buffered) {
      times.dataRead(buffered, started);
    }
    try {
      return spool(session, mail);
    } finally {
      SessionBuffer.close(session);
      times.replied(session, started);
    }
  }

  private HookResult spool(SMTPSession session, MailEnvelope mail) {
    MessageContent content;
    if (mail instanceof BufferedEnvelope buffered) {
      if (buffered.failure() != null) {
        LOG.warn(
            "A message of session {} could not be buffered: {}",
            session.getSessionID(),
            buffered.failure().toString());
        return reply(
            HookReturnCode.denySoft(),
            buffered.failure() instanceof NoRoomException
                ? Response.of(451, "4.3.1", "insufficient system storage, try again later")
                : Response.of(451, "4.3.0", "local error, try later"));
      }
      content = buffered.buffer();
    } else {
      try (InputStream in = mail.getMessageInputStream()) {
        content = MessageContent.of(in.readAllBytes());
      } catch (IOException e) {
        LOG.error("Cannot read a received message of session {}", session.getSessionID(), e);
        return reply(
            HookReturnCode.denySoft(), Response.of(451, "4.3.0", "local error, try later"));
      }
    }
    List<String> recipients =
        mail.getRecipients().stream()
            .map(recipient -> SmtpUtf8.original(session, recipient.asString()))
            .toList();
    String sender =
        mail.getMaybeSender().isNullSender()
            ? ""
            : SmtpUtf8.original(session, mail.getMaybeSender().asString());
    Optional<SSLSession> tls = session.getSSLSession();
    Submission submission =
        new Submission(
            sender,
            recipients,
            content,
            receptionProtocol(session),
            session.getRemoteAddress().getAddress().getHostAddress(),
            session.getAttachment(JaasAuthHook.TENANT, State.Connection).orElse(null),
            session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse(null),
            tls.map(SSLSession::getProtocol).orElse(null),
            tls.map(SSLSession::getCipherSuite).orElse(null),
            SessionIds.of(session));
    try {
      String id = destination.receive(submission);
      return reply(HookReturnCode.ok(), Response.of(250, "2.0.0", "Ok queued as " + id));
    } catch (ReceptionException e) {
      Response response = e.response();
      return reply(
          response.isPermanentFailure() ? HookReturnCode.deny() : HookReturnCode.denySoft(),
          response);
    } catch (RuntimeException e) {
      LOG.error("Queuing a message of session {} failed", session.getSessionID(), e);
      return reply(HookReturnCode.denySoft(), Response.of(451, "4.3.0", "local error, try later"));
    }
  }

  /**
   * The protocol as RFC 3848 and RFC 6531 name it for Received fields: ESMTP, ESMTPS, ESMTPSA,
   * UTF8SMTPS...
   */
  static String receptionProtocol(SMTPSession session) {
    boolean extended =
        "EHLO"
            .equals(
                session
                    .getAttachment(SMTPSession.CURRENT_HELO_MODE, State.Connection)
                    .orElse("EHLO"));
    String base = SmtpUtf8.declared(session) ? "UTF8SMTP" : extended ? "ESMTP" : "SMTP";
    return base
        + (session.isTLSStarted() ? "S" : "")
        + (extended && session.getUsername() != null ? "A" : "");
  }

  private static HookResult reply(HookReturnCode code, Response response) {
    return HookResult.builder()
        .hookReturnCode(code)
        .smtpReturnCode(String.valueOf(response.code()))
        .smtpDescription(response.enhancedCode() + " " + response.content())
        .build();
  }
}
