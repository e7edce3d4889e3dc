package org.postilion.queue.manager;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Message ids: 32 hex digits, the first 12 the reception time in milliseconds (so ids sort by age),
 * the rest random. Unique without coordination between restarts or nodes.
 */
final class MessageIds {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private MessageIds() {}

  static String next(long epochMillis) {
    byte[] random = new byte[10];
    RANDOM.nextBytes(random);
    // 16 hex digits of which the last 12 are the time; String.format costs more than the rest.
    return HEX.toHexDigits(epochMillis & 0xFFFF_FFFF_FFFFL).substring(4) + HEX.formatHex(random);
  }
}
