package org.postilion.api.reception;

import java.util.List;

/**
 * A message handed over by an ingress (SMTP listener, HTTP API) for queuing.
 *
 * @param sender the envelope sender, empty for the null sender
 * @param content the RFC 5322 bytes with CRLF line endings
 * @param receptionProtocol ESMTP, SMTP, HTTP...
 * @param peerAddress the client's address, for records
 * @param tenant the tenant fixed by the ingress (an authenticated user's), or {@code null} to take
 *     it from the message
 */
public record Submission(
    String sender,
    List<String> recipients,
    byte[] content,
    String receptionProtocol,
    String peerAddress,
    String tenant) {

  public Submission {
    recipients = List.copyOf(recipients);
  }
}
