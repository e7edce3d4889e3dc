package org.postilion.api.reception;

import java.util.List;
import org.postilion.api.delivery.MessageContent;

/**
 * A message handed over by an ingress (SMTP listener, HTTP API) for queuing.
 *
 * @param sender the envelope sender, empty for the null sender
 * @param content the RFC 5322 bytes with CRLF line endings, read as often as needed until {@link
 *     Reception#receive} returns
 * @param receptionProtocol as RFC 3848 names it for Received fields: SMTP, ESMTP, ESMTPS, ESMTPSA,
 *     HTTP...
 * @param peerAddress the client's address, for records
 * @param tenant the tenant fixed by the ingress (an authenticated user's), or {@code null} to take
 *     it from the message
 * @param heloName what the client said in HELO or EHLO, or {@code null}
 * @param tlsProtocol the TLS protocol of the client's connection, or {@code null} in clear text
 * @param tlsCipher the TLS cipher suite of the client's connection, or {@code null}
 * @param sessionId the id of the client's connection, shared by the records of its messages, or
 *     {@code null}
 */
public record Submission(
    String sender,
    List<String> recipients,
    MessageContent content,
    String receptionProtocol,
    String peerAddress,
    String tenant,
    String heloName,
    String tlsProtocol,
    String tlsCipher,
    String sessionId) {

  public Submission {
    recipients = List.copyOf(recipients);
  }

  /** A submission from a client that said no HELO name and used no TLS. */
  public Submission(
      String sender,
      List<String> recipients,
      MessageContent content,
      String receptionProtocol,
      String peerAddress,
      String tenant) {
    this(
        sender,
        recipients,
        content,
        receptionProtocol,
        peerAddress,
        tenant,
        null,
        null,
        null,
        null);
  }

  /** A submission of bytes already in memory, from a client without HELO name or TLS. */
  public Submission(
      String sender,
      List<String> recipients,
      byte[] content,
      String receptionProtocol,
      String peerAddress,
      String tenant) {
    this(sender, recipients, MessageContent.of(content), receptionProtocol, peerAddress, tenant);
  }
}
