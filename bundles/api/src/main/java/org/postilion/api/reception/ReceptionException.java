package org.postilion.api.reception;

import org.postilion.api.delivery.Response;

/** A message was not accepted; {@link #response()} is the reply for the client. */
public class ReceptionException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Response response;

  public ReceptionException(Response response, Throwable cause) {
    super(response.toString(), cause);
    this.response = response;
  }

  public ReceptionException(Response response) {
    this(response, null);
  }

  public Response response() {
    return response;
  }
}
