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
  void namesTheBadText() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("a fortnight"));
    assertEquals(true, e.getMessage().contains("a fortnight"));
  }
}
