package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.postilion.api.spool.MessageRecord;

class MessageCacheTest {
  private static MessageRecord message(String id) {
    return new MessageRecord(id, "a@b.test", Instant.now(), 100, null, null, "ESMTP");
  }

  @Test
  void keepsTheMostRecentlyUsedWithinItsBytes() {
    MessageCache cache = new MessageCache(300);
    cache.put(message("a"), new byte[100]);
    cache.put(message("b"), new byte[100]);
    cache.put(message("c"), new byte[100]);
    assertNotNull(cache.get("a"), "used: now the most recent");
    cache.put(message("d"), new byte[100]);
    assertNull(cache.get("b"), "the least recently used went");
    assertNotNull(cache.get("a"));
    assertEquals(300, cache.bytes());
    cache.remove("a");
    assertEquals(200, cache.bytes());
  }

  @Test
  void neverKeepsALargeMessage() {
    MessageCache cache = new MessageCache(1 << 30);
    cache.put(message("big"), new byte[MessageCache.MAX_MESSAGE + 1]);
    assertNull(cache.get("big"));
    assertEquals(0, cache.bytes());
  }
}
