package org.postilion.api.queue;

import java.time.Duration;

/**
 * Exponential backoff: the first retry after {@code interval}, each next one after twice the
 * previous delay, never more than {@code maxInterval} (KumoMTA's retry_interval and
 * max_retry_interval).
 */
public record RetrySchedule(Duration interval, Duration maxInterval) {

  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(20);

  public RetrySchedule {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("retry interval must be positive: " + interval);
    }
    if (maxInterval != null && maxInterval.compareTo(interval) < 0) {
      throw new IllegalArgumentException(
          "max retry interval " + maxInterval + " is shorter than the interval " + interval);
    }
  }

  /** The delay before the next attempt after {@code failedAttempts} attempts (1 or more) failed. */
  public Duration delayAfter(int failedAttempts) {
    int doublings = Math.max(0, failedAttempts - 1);
    Duration delay = interval;
    for (int i = 0; i < doublings; i++) {
      if (maxInterval != null && delay.compareTo(maxInterval) >= 0) {
        break;
      }
      // Past a century the exact figure no longer matters; stop before Duration overflows.
      if (delay.compareTo(Duration.ofDays(36_500)) > 0) {
        break;
      }
      delay = delay.multipliedBy(2);
    }
    return maxInterval != null && delay.compareTo(maxInterval) > 0 ? maxInterval : delay;
  }
}
