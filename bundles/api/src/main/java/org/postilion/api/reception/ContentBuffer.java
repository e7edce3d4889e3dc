package org.postilion.api.reception;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.postilion.api.delivery.MessageContent;

/**
 * Where an ingress writes a message's bytes as they arrive, before it hands the message over with
 * {@link Reception#receive}. The queue manager's buffers keep a little of each message in memory,
 * within a budget for all messages in flight, and the rest in a temporary file, so that many large
 * messages at once cannot exhaust the heap.
 *
 * <p>Write everything to {@link #output()}, close that stream, then read the bytes back as a {@link
 * MessageContent}. {@link #close()} frees the buffer; call it once the message is spooled or
 * refused.
 */
public interface ContentBuffer extends MessageContent, AutoCloseable {

  /**
   * The stream to write the message to.
   *
   * @throws IOException from its write methods when there is no room left: answer 451 4.3.1
   */
  OutputStream output();

  /** Frees the memory and deletes the temporary file; idempotent. */
  @Override
  void close();

  /** A buffer on the heap alone, for tests and messages the server builds itself. */
  static ContentBuffer inMemory() {
    return new ContentBuffer() {
      private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

      @Override
      public OutputStream output() {
        return bytes;
      }

      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes.toByteArray());
      }

      @Override
      public long size() {
        return bytes.size();
      }

      @Override
      public void close() {
        bytes.reset();
      }
    };
  }
}
