package org.postilion.shell;

import java.time.Duration;
import java.time.Instant;
import org.postilion.api.queue.Durations;

/** How the commands show values in tables; --json writes the API objects as they are. */
final class Views {
  private Views() {}

  static String time(Instant instant) {
    return instant == null ? "" : instant.toString();
  }

  static Duration duration(String text, String option) {
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return Durations.parse(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }
}
