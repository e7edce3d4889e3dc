package org.postilion.smtp.listener;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.postilion.api.delivery.Response;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.Refusal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts each refusal by reason and has the queue manager write a Rejection record for it. The
 * record is written on the given executor, never on the thread that refused (a Netty loop, maybe).
 */
final class Refusals {
  private static final Logger LOG = LoggerFactory.getLogger(Refusals.class);

  private final String listener;
  private final Reception reception;
  private final Executor executor;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  Refusals(String listener, Reception reception, Executor executor) {
    this.listener = listener;
    this.reception = reception;
    this.executor = executor;
  }

  /** A client turned away before it had a session. */
  void connectionRefused(String reason, Response response, String clientAddress) {
    record(
        new Refusal(reason, null, List.of(), response, clientAddress, null, null, listener, null));
  }

  /** A client or command refused during a session; names the transaction so far. */
  void sessionRefused(String reason, Response response, SMTPSession session) {
    record(refusalOf(reason, response, session, null));
  }

  /** One recipient refused at RCPT: the record names it rather than those accepted before. */
  void recipientRefused(String reason, Response response, SMTPSession session, String recipient) {
    record(refusalOf(reason, response, session, recipient));
  }

  private Refusal refusalOf(
      String reason, Response response, SMTPSession session, String refusedRecipient) {
    String sender =
        session
            .getAttachment(SMTPSession.SENDER, State.Transaction)
            .map(MaybeSender::asString)
            .orElse(null);
    List<String> recipients =
        refusedRecipient != null
            ? List.of(refusedRecipient)
            : session
                .getAttachment(SMTPSession.RCPT_LIST, State.Transaction)
                .map(list -> list.stream().map(MailAddress::asString).toList())
                .orElse(List.of());
    return new Refusal(
        reason,
        sender,
        recipients,
        response,
        session.getRemoteAddress().getAddress().getHostAddress(),
        session.getAttachment(SMTPSession.CURRENT_HELO_NAME, State.Connection).orElse(null),
        SpoolingMessageHook.receptionProtocol(session),
        listener,
        SessionIds.of(session));
  }

  /** Records the refusal and returns it as the reply to the client. */
  SMTPResponse refuse(String reason, Response response, SMTPSession session) {
    sessionRefused(reason, response, session);
    return new SMTPResponse(
        String.valueOf(response.code()), response.enhancedCode() + " " + response.content());
  }

  private void record(Refusal refusal) {
    counts.computeIfAbsent(refusal.reason(), r -> new LongAdder()).increment();
    try {
      executor.execute(
          () -> {
            try {
              reception.refused(refusal);
            } catch (RuntimeException e) {
              LOG.warn("Cannot record a {} refusal of listener {}", refusal.reason(), listener, e);
            }
          });
    } catch (RejectedExecutionException e) {
      LOG.debug("Listener {} stopping: {} refusal not recorded", listener, refusal.reason());
    }
  }

  Map<String, Long> counts() {
    Map<String, Long> snapshot = new TreeMap<>();
    counts.forEach((reason, count) -> snapshot.put(reason, count.sum()));
    return snapshot;
  }
}
