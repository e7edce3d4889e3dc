package org.postilion.api.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RateTest {

  @Test
  void parsesKumoMtaStyleRates() {
    assertEquals(new Rate(100, Duration.ofSeconds(1)), Rate.parse("100/s"));
    assertEquals(new Rate(10, Duration.ofMinutes(1)), Rate.parse("10/min"));
    assertEquals(new Rate(5000, Duration.ofHours(1)), Rate.parse(" 5000 / h "));
    assertEquals(new Rate(20000, Duration.ofDays(1)), Rate.parse("20000/day"));
    assertEquals(10_000_000L, Rate.parse("100/s").intervalNanos());
    assertEquals("5000/h", Rate.parse("5000/hour").toString());
  }

  @Test
  void refusesWhatIsNotARateQuotingIt() {
    for (String bad : new String[] {"100/fortnight", "100", "-5/s", "0/s", "/s", "ten/s", ""}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Rate.parse(bad), bad);
      assertTrue(e.getMessage().contains("rate"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Rate.parse("99999999999999999999/s"));
  }

  @Test
  void throttleSpacesEventsEvenlyWithoutBursts() {
    Throttle throttle = new Throttle(Rate.parse("10/s"));
    long start = 1_000_000_000L;
    assertEquals(0, throttle.reserve(start));
    assertEquals(100_000_000L, throttle.reserve(start));
    assertEquals(200_000_000L, throttle.reserve(start));
    // After a quiet spell the next one goes at once, but the one after waits its interval.
    long later = start + 10_000_000_000L;
    assertEquals(0, throttle.reserve(later));
    assertEquals(100_000_000L, throttle.reserve(later));
  }

  @Test
  void aChangedRateAppliesToTheNextSlots() {
    Throttle throttle = new Throttle(Rate.parse("1/s"));
    assertEquals(0, throttle.reserve(0));
    throttle.setRate(Rate.parse("100/s"));
    assertEquals(1_000_000_000L, throttle.reserve(0));
    assertEquals(1_010_000_000L, throttle.reserve(0));
  }
}
