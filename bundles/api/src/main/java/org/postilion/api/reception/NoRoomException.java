package org.postilion.api.reception;

import java.io.IOException;

/**
 * Thrown by a {@link ContentBuffer}'s output when the server has no room left for mail in flight;
 * the client should be told 451 4.3.1 (HTTP 503) and try again later.
 */
public class NoRoomException extends IOException {
  private static final long serialVersionUID = 1L;

  public NoRoomException(String message) {
    super(message);
  }
}
