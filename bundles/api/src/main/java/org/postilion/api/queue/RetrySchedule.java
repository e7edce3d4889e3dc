package org.postilion.api.queue;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter: the first retry after about {@code interval}, each next one
 * after about twice the previous delay, never more than {@code maxInterval} (KumoMTA's
 * retry_interval and max_retry_interval). The jitter spreads the retries of mail that failed
 * together, so a destination that comes back is not hit by all of it at the same moment.
 */
public record RetrySchedule(Duration interval, Duration maxInterval) {

  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(20);

  /** Each delay is the nominal one plus or minus up to this fraction of it. */
  public static final double JITTER = 0.1;

  public RetrySchedule {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("retry interval must be positive: " + interval);
    }
    if (maxInterval != null && maxInterval.compareTo(interval) < 0) {
      throw new IllegalArgumentException(
          "max retry interval " + maxInterval + " is shorter than the interval " + interval);
    }
  }

  /**
   * The nominal delay before the next attempt after {@code failedAttempts} attempts (1 or more)
   * failed: interval doubled per earlier failure, capped at the max interval.
   */
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

  /**
   * The nominal delay moved by a random amount within {@link #JITTER} of it, and still never past
   * the max interval.
   */
  public Duration delayAfter(int failedAttempts, RandomGenerator random) {
    Duration nominal = delayAfter(failedAttempts);
    double factor = 1 + JITTER * (2 * random.nextDouble() - 1);
    Duration jittered = Duration.ofMillis(Math.round(nominal.toMillis() * factor));
    return maxInterval != null && jittered.compareTo(maxInterval) > 0 ? maxInterval : jittered;
  }
}
