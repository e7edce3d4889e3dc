package org.postilion.queue.manager;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.postilion.api.spool.MessageRecord;

/**
 * The messages received lately, kept in memory after they were spooled, so that their first
 * delivery attempt (seconds later, as a rule) reads neither their metadata nor their bytes back
 * from the spool. Bounded by bytes; the least recently used go first. A message not found here is
 * read from the spool as before.
 */
final class MessageCache {
  /** A message and its bytes exactly as spooled. */
  record Cached(MessageRecord message, byte[] content) {}

  /** Messages larger than this are never kept: their delivery streams them from the spool. */
  static final int MAX_MESSAGE = 256 * 1024;

  private final long maxBytes;
  private final LinkedHashMap<String, Cached> entries = new LinkedHashMap<>(1024, 0.75f, true);
  private long bytes;

  MessageCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  synchronized void put(MessageRecord message, byte[] content) {
    if (content.length > MAX_MESSAGE || content.length > maxBytes) {
      return;
    }
    Cached previous = entries.put(message.id(), new Cached(message, content));
    bytes += content.length - (previous == null ? 0 : previous.content().length);
    Iterator<Map.Entry<String, Cached>> oldest = entries.entrySet().iterator();
    while (bytes > maxBytes && oldest.hasNext()) {
      bytes -= oldest.next().getValue().content().length;
      oldest.remove();
    }
  }

  synchronized Cached get(String id) {
    return entries.get(id);
  }

  /** The message left the spool: its bytes are of no more use. */
  synchronized void remove(String id) {
    Cached removed = entries.remove(id);
    if (removed != null) {
      bytes -= removed.content().length;
    }
  }

  synchronized long bytes() {
    return bytes;
  }
}
