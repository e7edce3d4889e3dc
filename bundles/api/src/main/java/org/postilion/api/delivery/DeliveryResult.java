package org.postilion.api.delivery;

import java.util.List;

/**
 * The outcome of a delivery attempt: one result per recipient of the request, and the peer that
 * answered (a host and address, a path, a URL), for the records.
 */
public record DeliveryResult(List<RecipientResult> recipients, String peer) {

  public DeliveryResult {
    recipients = List.copyOf(recipients);
  }

  /** The same disposition and response for every recipient of {@code request}. */
  public static DeliveryResult forAll(
      DeliveryRequest request, Disposition disposition, Response response, String peer) {
    return new DeliveryResult(
        request.recipients().stream()
            .map(r -> new RecipientResult(r, disposition, response))
            .toList(),
        peer);
  }
}
