package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.error.PebbleException;

/**
 * A template went past its {@link RenderBudget}, or reached for something the sandbox does not
 * offer. A {@link PebbleException}, so that Pebble passes it on (often wrapped: look along the
 * causes); the message is for the client.
 */
public final class TemplateLimitException extends PebbleException {
  private static final long serialVersionUID = 1L;

  private final boolean cancelled;

  TemplateLimitException(String message) {
    this(message, false);
  }

  TemplateLimitException(String message, boolean cancelled) {
    super(null, message);
    this.cancelled = cancelled;
  }

  /** Whether the request was cancelled from outside (timeout), not refused for its template. */
  public boolean isCancelled() {
    return cancelled;
  }

  /** The first TemplateLimitException among {@code e} and its causes, or {@code null}. */
  public static TemplateLimitException in(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof TemplateLimitException limit) {
        return limit;
      }
    }
    return null;
  }
}
