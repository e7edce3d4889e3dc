package org.postilion.api.reception;

import java.util.List;
import org.postilion.api.delivery.Response;

/**
 * A listener turned a client or a command away: too many connections, a timeout, a failed AUTH, a
 * line too long. Each becomes a Rejection record, one per recipient named so far (one without a
 * recipient when there is none).
 *
 * @param reason a short, stable name for the kind of refusal (e.g. {@code max_connections}), used
 *     in the record's {@code meta.refusal} and in the listener's counters
 * @param sender the MAIL FROM of the transaction, null before MAIL
 * @param recipients the accepted RCPTs of the transaction; empty before RCPT
 * @param response what the client was told
 * @param clientAddress the client's IP address
 * @param heloName what the client said in HELO or EHLO, null before it
 * @param receptionProtocol ESMTP, ESMTPS... as in Received fields
 * @param listener the name of the listener (the cfg file's suffix); null when the server itself
 *     refused (no room)
 * @param sessionId the id of the client's connection, as in its Reception records; null before the
 *     connection had a session
 */
public record Refusal(
    String reason,
    String sender,
    List<String> recipients,
    Response response,
    String clientAddress,
    String heloName,
    String receptionProtocol,
    String listener,
    String sessionId) {

  public Refusal {
    recipients = recipients == null ? List.of() : List.copyOf(recipients);
  }
}
