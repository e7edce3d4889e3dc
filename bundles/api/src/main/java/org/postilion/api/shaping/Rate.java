package org.postilion.api.shaping;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * So many events per period, written as KumoMTA writes rates: {@code 100/s}, {@code 10/min}, {@code
 * 5000/h}, {@code 20000/d}.
 */
public record Rate(long count, Duration period) {
  private static final Pattern FORM =
      Pattern.compile("(\\d+)\\s*/\\s*(s|sec|second|m|min|minute|h|hr|hour|d|day)");

  public Rate {
    if (count < 1) {
      throw new IllegalArgumentException("a rate needs at least 1 per period, not " + count);
    }
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("a rate needs a positive period, not " + period);
    }
  }

  /**
   * Parses {@code N/unit}.
   *
   * @throws IllegalArgumentException quoting the text when it is not a rate
   */
  public static Rate parse(String text) {
    Matcher m = FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "not a rate: '" + text + "' (write N/s, N/min, N/h or N/d, e.g. 100/s)");
    }
    long count;
    try {
      count = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("rate count too large: '" + text + "'", e);
    }
    Duration period =
        switch (m.group(2)) {
          case "s", "sec", "second" -> Duration.ofSeconds(1);
          case "m", "min", "minute" -> Duration.ofMinutes(1);
          case "h", "hr", "hour" -> Duration.ofHours(1);
          default -> Duration.ofDays(1);
        };
    return new Rate(count, period);
  }

  /** Nanoseconds between two events at this rate. */
  public long intervalNanos() {
    return Math.max(1, period.toNanos() / count);
  }

  @Override
  public String toString() {
    long seconds = period.toSeconds();
    String unit =
        seconds == 1 ? "s" : seconds == 60 ? "min" : seconds == 3600 ? "h" : seconds + "s";
    if (seconds == 86_400) {
      unit = "d";
    }
    return count + "/" + unit;
  }
}
