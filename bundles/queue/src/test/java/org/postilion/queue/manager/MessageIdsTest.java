package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MessageIdsTest {

  @Test
  void anIdIsThirtyTwoHexDigitsThatStartWithTheReceptionTime() {
    long millis = 0x0123_4567_89abL;
    String id = MessageIds.next(millis);
    assertTrue(id.matches("[0-9a-f]{32}"), id);
    assertEquals("0123456789ab", id.substring(0, 12));
    assertEquals(millis, Long.parseLong(id.substring(0, 12), 16));
  }

  @Test
  void idsSortByTimeAndDifferWithinOneMillisecond() {
    assertTrue(MessageIds.next(1_000).compareTo(MessageIds.next(1_001)) < 0);
    assertTrue(MessageIds.next(0xfff).compareTo(MessageIds.next(0x1000)) < 0);
    assertNotEquals(MessageIds.next(5), MessageIds.next(5));
  }
}
