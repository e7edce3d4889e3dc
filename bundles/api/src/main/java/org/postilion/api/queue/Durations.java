package org.postilion.api.queue;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations as operators write them in cfg files: {@code 90s}, {@code 20m}, {@code 7d}. */
public final class Durations {
  private static final Pattern SIMPLE =
      Pattern.compile("(\\d+)\\s*(ms|s|sec|secs|m|min|mins|h|hr|hrs|d|day|days)");

  private Durations() {}

  /**
   * Accepts a number with a unit (ms, s, m, h, d), a plain number of seconds, or ISO-8601 ({@code
   * PT20M}).
   *
   * @throws IllegalArgumentException naming the text when it is none of those
   */
  public static Duration parse(String text) {
    String value = text.trim().toLowerCase(Locale.ROOT);
    if (value.startsWith("p")) {
      return Duration.parse(value.toUpperCase(Locale.ROOT));
    }
    if (value.chars().allMatch(Character::isDigit) && !value.isEmpty()) {
      return Duration.ofSeconds(Long.parseLong(value));
    }
    Matcher m = SIMPLE.matcher(value);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "not a duration: '" + text + "' (write e.g. 30s, 20m, 4h, 7d or PT20M)");
    }
    long amount = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s", "sec", "secs" -> Duration.ofSeconds(amount);
      case "m", "min", "mins" -> Duration.ofMinutes(amount);
      case "h", "hr", "hrs" -> Duration.ofHours(amount);
      default -> Duration.ofDays(amount);
    };
  }
}
