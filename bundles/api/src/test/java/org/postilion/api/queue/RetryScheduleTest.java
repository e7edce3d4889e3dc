package org.postilion.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryScheduleTest {

  @Test
  void doublesFromTwentyMinutesByDefault() {
    RetrySchedule schedule = new RetrySchedule(RetrySchedule.DEFAULT_INTERVAL, null);
    assertEquals(Duration.ofMinutes(20), schedule.delayAfter(1));
    assertEquals(Duration.ofMinutes(40), schedule.delayAfter(2));
    assertEquals(Duration.ofMinutes(80), schedule.delayAfter(3));
    assertEquals(Duration.ofMinutes(160), schedule.delayAfter(4));
  }

  @Test
  void neverExceedsTheMaximum() {
    RetrySchedule schedule = new RetrySchedule(Duration.ofMinutes(20), Duration.ofHours(1));
    assertEquals(Duration.ofMinutes(40), schedule.delayAfter(2));
    assertEquals(Duration.ofHours(1), schedule.delayAfter(3));
    assertEquals(Duration.ofHours(1), schedule.delayAfter(50));
  }

  @Test
  void manyAttemptsDoNotOverflow() {
    RetrySchedule schedule = new RetrySchedule(Duration.ofMinutes(20), null);
    assertEquals(schedule.delayAfter(40), schedule.delayAfter(4000));
  }

  @Test
  void refusesNonsense() {
    assertThrows(IllegalArgumentException.class, () -> new RetrySchedule(Duration.ZERO, null));
    assertThrows(
        IllegalArgumentException.class,
        () -> new RetrySchedule(Duration.ofMinutes(20), Duration.ofMinutes(5)));
  }

  @Test
  void jitterStaysWithinTenPercentAndSpreadsTheRetries() {
    RetrySchedule schedule = new RetrySchedule(Duration.ofMinutes(20), null);
    SplittableRandom random = new SplittableRandom(42);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      long millis = schedule.delayAfter(2, random).toMillis();
      assertTrue(millis >= 36 * 60_000 && millis <= 44 * 60_000, "delay " + millis);
      seen.add(millis / 1000);
    }
    assertTrue(seen.size() > 100, "retries must not all come at the same second: " + seen.size());
  }

  @Test
  void jitterNeverPassesTheMaximum() {
    RetrySchedule schedule = new RetrySchedule(Duration.ofMinutes(20), Duration.ofHours(1));
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 1000; i++) {
      Duration delay = schedule.delayAfter(10, random);
      assertTrue(delay.compareTo(Duration.ofHours(1)) <= 0, delay.toString());
      assertTrue(delay.compareTo(Duration.ofMinutes(54)) >= 0, delay.toString());
    }
  }
}
