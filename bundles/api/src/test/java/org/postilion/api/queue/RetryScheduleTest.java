package org.postilion.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
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
}
