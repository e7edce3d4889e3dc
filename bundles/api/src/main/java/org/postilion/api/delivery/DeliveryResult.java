package org.postilion.api.delivery;

import java.util.List;

/**
 * The outcome of a delivery attempt: one result per recipient of the request, the peer that
 * answered, and what the records say of the session: the TLS protocol, cipher and peer certificate
 * subject when it was encrypted, and the local address it left from (else null).
 *
 * @param sourceAddress the local address and port of the connection, {@code 192.0.2.1:40123}
 * @param tlsPeerSubjectName the subject of the peer's certificate, one element per RDN in
 *     certificate order ({@code C=US}, ..., {@code CN=mx.example.com}), as KumoMTA records it
 */
public record DeliveryResult(
    List<RecipientResult> recipients,
    PeerAddress peer,
    String tlsProtocol,
    String tlsCipher,
    String sourceAddress,
    List<String> tlsPeerSubjectName) {

  public DeliveryResult {
    recipients = List.copyOf(recipients);
    tlsPeerSubjectName = tlsPeerSubjectName == null ? null : List.copyOf(tlsPeerSubjectName);
  }

  public DeliveryResult(List<RecipientResult> recipients, PeerAddress peer) {
    this(recipients, peer, null, null, null, null);
  }

  /**
   * A transient failure of every recipient because the queue configuration lacks a key the protocol
   * needs: the mail waits until the operator adds it.
   */
  public static DeliveryResult missingKey(DeliveryRequest request, String key) {
    return forAll(
        request,
        Disposition.TRANSIENT_FAILURE,
        Response.of(
            451, "4.3.5", key + " is not set in queue configuration " + request.config().source()),
        null);
  }

  /** The same disposition and response for every recipient of {@code request}. */
  public static DeliveryResult forAll(
      DeliveryRequest request, Disposition disposition, Response response, PeerAddress peer) {
    return new DeliveryResult(
        request.recipients().stream()
            .map(r -> new RecipientResult(r, disposition, response))
            .toList(),
        peer);
  }
}
