package org.postilion.delivery.smtp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.postilion.api.delivery.DeliveryRequest;

/**
 * A message's bytes for one attempt: read from the spool once for a message of ordinary size, so
 * the 8-bit check and the sending do not both go to the disk; streamed twice for a large one.
 *
 * @param bytes the bytes in memory, or null to stream them from the spool again
 */
record MessageBytes(byte[] bytes, boolean eightBit, DeliveryRequest request) {

  /** Messages up to this size are read from the spool once and kept for the attempt. */
  static final int IN_MEMORY_LIMIT = 1024 * 1024;

  static MessageBytes of(DeliveryRequest request) throws IOException {
    long size = request.content().size();
    if (size <= IN_MEMORY_LIMIT) {
      byte[] bytes;
      try (InputStream in = request.content().open()) {
        bytes = in.readAllBytes();
      }
      return new MessageBytes(bytes, hasEightBit(bytes, bytes.length), request);
    }
    boolean eightBit;
    try (InputStream in = request.content().open()) {
      eightBit = hasEightBit(in);
    }
    return new MessageBytes(null, eightBit, request);
  }

  InputStream open() throws IOException {
    return bytes != null ? new ByteArrayInputStream(bytes) : request.content().open();
  }

  /** True when the message has a byte above 127: it then needs 8BITMIME (RFC 6152). */
  private static boolean hasEightBit(InputStream in) throws IOException {
    byte[] buffer = new byte[8192];
    int n;
    while ((n = in.read(buffer)) > 0) {
      if (hasEightBit(buffer, n)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasEightBit(byte[] bytes, int length) {
    for (int i = 0; i < length; i++) {
      if (bytes[i] < 0) {
        return true;
      }
    }
    return false;
  }
}
