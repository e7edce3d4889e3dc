package org.postilion.delivery.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;

/** A message waiting in a site's ready queue, with where it goes and how. */
record DeliveryJob(
    DeliveryRequest request,
    Route route,
    DestinationSettings settings,
    CompletableFuture<DeliveryResult> result) {

  /** True when the message has a byte above 127: it then needs 8BITMIME (RFC 6152). */
  boolean eightBit() throws IOException {
    try (InputStream in = request.content().open()) {
      byte[] buffer = new byte[8192];
      int n;
      while ((n = in.read(buffer)) > 0) {
        for (int i = 0; i < n; i++) {
          if (buffer[i] < 0) {
            return true;
          }
        }
      }
    }
    return false;
  }
}
