package org.postilion.api.queue;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them in cfg files and as KumoMTA's API takes and gives them: {@code
 * 90s}, {@code 20m}, {@code 1h 30m}, {@code 7d}.
 */
public final class Durations {
  private static final Pattern PART =
      Pattern.compile(
          "(\\d+)\\s*(nsec|ns|usec|us|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m"
              + "|hours|hour|hrs|hr|h|days|day|d|weeks|week|w)\\s*");

  private Durations() {}

  /**
   * Accepts numbers with units, one or several ({@code 1h 30m}, as Rust's humantime writes them:
   * ns, us, ms, s, m, h, d, w), a plain number of seconds, or ISO-8601 ({@code PT20M}).
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
    Matcher m = PART.matcher(value);
    Duration total = Duration.ZERO;
    int at = 0;
    while (at < value.length() && m.find(at) && m.start() == at) {
      total = total.plus(part(Long.parseLong(m.group(1)), m.group(2)));
      at = m.end();
    }
    if (at == 0 || at < value.length()) {
      throw new IllegalArgumentException(
          "not a duration: '" + text + "' (write e.g. 30s, 20m, 1h 30m, 7d or PT20M)");
    }
    return total;
  }

  private static Duration part(long amount, String unit) {
    return switch (unit) {
      case "ns", "nsec" -> Duration.ofNanos(amount);
      case "us", "usec" -> Duration.ofNanos(Math.multiplyExact(amount, 1000L));
      case "ms", "msec" -> Duration.ofMillis(amount);
      case "s", "sec", "secs", "second", "seconds" -> Duration.ofSeconds(amount);
      case "m", "min", "mins", "minute", "minutes" -> Duration.ofMinutes(amount);
      case "h", "hr", "hrs", "hour", "hours" -> Duration.ofHours(amount);
      case "w", "week", "weeks" -> Duration.ofDays(Math.multiplyExact(amount, 7L));
      default -> Duration.ofDays(amount);
    };
  }

  /**
   * As Rust's humantime formats it, which KumoMTA's API answers with: {@code 1day 2h 3m 4s 5ms},
   * every unit that is not zero, down to nanoseconds; {@code 0s} for nothing.
   */
  public static String format(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      return "0s";
    }
    long days = duration.toDays();
    long[] amounts = {
      duration.toHoursPart(),
      duration.toMinutesPart(),
      duration.toSecondsPart(),
      duration.toMillisPart(),
      (duration.toNanosPart() / 1000) % 1000,
      duration.toNanosPart() % 1000
    };
    String[] units = {"h", "m", "s", "ms", "us", "ns"};
    StringBuilder out = new StringBuilder();
    if (days > 0) {
      out.append(days).append(days == 1 ? "day" : "days");
    }
    for (int i = 0; i < amounts.length; i++) {
      if (amounts[i] > 0) {
        if (out.length() > 0) {
          out.append(' ');
        }
        out.append(amounts[i]).append(units[i]);
      }
    }
    return out.toString();
  }
}
