package org.postilion.delivery.smtp;

import org.postilion.api.delivery.Response;

/** A failure that ends an attempt for every recipient, with the response to record. */
final class DeliveryFailure extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Response response;

  DeliveryFailure(Response response) {
    super(response.toString());
    this.response = response;
  }

  DeliveryFailure(Response response, Throwable cause) {
    super(response.toString(), cause);
    this.response = response;
  }

  Response response() {
    return response;
  }

  static DeliveryFailure transientFailure(String enhanced, String text) {
    return new DeliveryFailure(Response.of(451, enhanced, text));
  }

  static DeliveryFailure permanentFailure(int code, String enhanced, String text) {
    return new DeliveryFailure(Response.of(code, enhanced, text));
  }
}
