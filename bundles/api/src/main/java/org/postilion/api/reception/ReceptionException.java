package org.postilion.api.reception;

import org.postilion.api.delivery.Response;

/** A message was not accepted; {@link #response()} is the reply for the client. */
public class ReceptionException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Response response;
  private final String reason;

  public ReceptionException(Response response, Throwable cause) {
    super(response.toString(), cause);
    this.response = response;
    this.reason = null;
  }

  public ReceptionException(Response response) {
    this(response, (Throwable) null);
  }

  /**
   * A refusal of the server's own making, named for records and counters.
   *
   * @param reason a short, stable name, as {@link Refusal#reason()} (e.g. {@code min_free_space})
   */
  public ReceptionException(Response response, String reason) {
    super(response.toString());
    this.response = response;
    this.reason = reason;
  }

  public Response response() {
    return response;
  }

  /** Why the server refused, when it says; {@code null} otherwise. */
  public String reason() {
    return reason;
  }
}
