package org.postilion.http.web;

/**
 * A request the API refuses: the HTTP status, the field at fault (a JSON path such as {@code
 * recipients[2].email}, or {@code null}) and a message for the client.
 */
public class RequestException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String field;

  public RequestException(int status, String field, String message) {
    super(message);
    this.status = status;
    this.field = field;
  }

  /** A 400 Bad Request about one field. */
  public static RequestException badField(String field, String message) {
    return new RequestException(400, field, message);
  }

  public int status() {
    return status;
  }

  public String field() {
    return field;
  }

  /** "field: message", or the message alone. */
  public String describe() {
    return field == null ? getMessage() : field + ": " + getMessage();
  }
}
