package org.postilion.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void readsUnitsOperatorsWrite() {
    assertEquals(Duration.ofSeconds(90), Durations.parse("90s"));
    assertEquals(Duration.ofMinutes(20), Durations.parse("20m"));
    assertEquals(Duration.ofHours(4), Durations.parse(" 4h "));
    assertEquals(Duration.ofDays(7), Durations.parse("7d"));
    assertEquals(Duration.ofMillis(250), Durations.parse("250ms"));
    assertEquals(Duration.ofSeconds(30), Durations.parse("30"));
    assertEquals(Duration.ofMinutes(20), Durations.parse("PT20M"));
  }

  @Test
  void readsAndWritesHumantimeAsKumoMtasApiDoes() {
    assertEquals(Duration.ofMinutes(90), Durations.parse("1h 30m"));
    assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m"));
    assertEquals(
        Duration.ofMinutes(4).plusSeconds(59).plusMillis(998).plusNanos(481_293),
        Durations.parse("4m 59s 998ms 481us 293ns"));
    assertEquals(Duration.ofDays(15), Durations.parse("2weeks 1day"));
    assertEquals(Duration.ofSeconds(75), Durations.parse("1min 15secs"));
    assertEquals(
        "4m 59s 998ms 481us 293ns", Durations.format(Durations.parse("4m 59s 998ms 481us 293ns")));
    assertEquals("1day 2h", Durations.format(Duration.ofHours(26)));
    assertEquals("2days", Durations.format(Duration.ofDays(2)));
    assertEquals("5m", Durations.format(Duration.ofMinutes(5)));
    assertEquals("0s", Durations.format(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> Durations.parse("5 months"));
    assertThrows(IllegalArgumentException.class, () -> Durations.parse("1h and 5m"));
  }

  @Test
  void namesTheBadText() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("a fortnight"));
    assertEquals(true, e.getMessage().contains("a fortnight"));
  }
}
