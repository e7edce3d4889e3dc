package org.postilion.api.spool;

/** The spool could not do what was asked: the storage failed or the message is not there. */
public class SpoolException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SpoolException(String message, Throwable cause) {
    super(message, cause);
  }

  public SpoolException(String message) {
    super(message);
  }
}
