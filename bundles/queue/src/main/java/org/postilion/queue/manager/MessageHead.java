package org.postilion.queue.manager;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.Response;
import org.postilion.api.reception.ReceptionException;

/**
 * Reads a message's header section, up to and with the blank line that ends it, without reading the
 * body: filters edit the header section in memory while the body stays where it arrived.
 */
final class MessageHead {

  /** Larger header sections are refused; every listener's own limit is lower. */
  static final int MAX_HEAD = 1024 * 1024;

  private MessageHead() {}

  /**
   * @throws ReceptionException 552 5.3.4 for a header section over {@link #MAX_HEAD}, 451 4.3.0
   *     when the bytes cannot be read
   */
  static byte[] read(MessageContent content) throws ReceptionException {
    byte[] head = new byte[8192];
    int length = 0;
    try (InputStream in = content.open()) {
      while (true) {
        if (length == head.length) {
          head = Arrays.copyOf(head, length * 2);
        }
        int n = in.read(head, length, head.length - length);
        if (n < 0) {
          // No blank line: the message is all header section.
          return Arrays.copyOf(head, length);
        }
        int end = blankLineEnd(head, Math.max(0, length - 3), length + n);
        length += n;
        if ((end < 0 ? length : end) > MAX_HEAD) {
          throw new ReceptionException(
              Response.of(552, "5.3.4", "header section exceeds " + MAX_HEAD + " octets"));
        }
        if (end >= 0) {
          return Arrays.copyOf(head, end);
        }
      }
    } catch (IOException e) {
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot read the message now, try again later"), e);
    }
  }

  /**
   * Where the body starts: after the first CRLF CRLF at or after {@code from}, or after the CRLF of
   * a message that starts with an empty line; -1 when not found yet.
   */
  static int blankLineEnd(byte[] m, int from, int length) {
    if (from == 0 && length >= 2 && m[0] == '\r' && m[1] == '\n') {
      return 2;
    }
    for (int i = from; i + 3 < length; i++) {
      if (m[i] == '\r' && m[i + 1] == '\n' && m[i + 2] == '\r' && m[i + 3] == '\n') {
        return i + 4;
      }
    }
    return -1;
  }
}
