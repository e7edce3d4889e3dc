package org.postilion.api.delivery;

/**
 * A delivery step failed with a response that says what it means for the mail: a 5xx (permanent)
 * bounces it, a 4xx (transient) has it retried on its queue's schedule.
 */
public class DeliveryException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient Response response;
  private final boolean beforeTransaction;

  /**
   * @param beforeTransaction whether the failure came before any of the message was sent (a kept
   *     connection that the site had closed meanwhile): worth one more try on a fresh session
   */
  public DeliveryException(Response response, boolean beforeTransaction, Throwable cause) {
    super(response.toString(), cause);
    this.response = response;
    this.beforeTransaction = beforeTransaction;
  }

  public DeliveryException(Response response) {
    this(response, false, null);
  }

  /** A 4xx with this enhanced code and text. */
  public static DeliveryException transientFailure(String enhancedCode, String text) {
    return new DeliveryException(Response.of(451, enhancedCode, text));
  }

  public Response response() {
    return response;
  }

  public boolean beforeTransaction() {
    return beforeTransaction;
  }
}
