package org.postilion.api.delivery;

import java.util.List;

/**
 * The outcome of a delivery attempt: one result per recipient of the request, the peer that
 * answered, and the TLS protocol and cipher when the attempt was encrypted (else null).
 */
public record DeliveryResult(
    List<RecipientResult> recipients, PeerAddress peer, String tlsProtocol, String tlsCipher) {

  public DeliveryResult {
    recipients = List.copyOf(recipients);
  }

  public DeliveryResult(List<RecipientResult> recipients, PeerAddress peer) {
    this(recipients, peer, null, null);
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
