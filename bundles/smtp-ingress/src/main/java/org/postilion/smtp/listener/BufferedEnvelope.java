package org.postilion.smtp.listener;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.smtp.MailEnvelope;
import org.postilion.api.reception.ContentBuffer;

/**
 * A message being received into one of the queue manager's buffers rather than into a byte array on
 * the heap (James's own envelope). A write that fails, for want of room, is remembered and the rest
 * of the data is read and dropped, so the session stays in step and the client hears why after its
 * final dot.
 */
final class BufferedEnvelope implements MailEnvelope {
  private final MaybeSender sender;
  private final List<MailAddress> recipients;
  private final ContentBuffer buffer;
  private IOException failure;
  private final long createdNanos = System.nanoTime();

  private final OutputStream output =
      new OutputStream() {
        @Override
        public void write(int b) {
          write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
          if (failure != null) {
            return;
          }
          try {
            buffer.output().write(bytes, offset, length);
          } catch (IOException e) {
            failure = e;
          }
        }
      };

  /** When the message's data began to arrive (DATA, or the first BDAT chunk). */
  long createdNanos() {
    return createdNanos;
  }

  BufferedEnvelope(MaybeSender sender, List<MailAddress> recipients, ContentBuffer buffer) {
    this.sender = sender;
    this.recipients = List.copyOf(recipients);
    this.buffer = buffer;
  }

  @Override
  public long getSize() {
    return buffer.size();
  }

  @Override
  public List<MailAddress> getRecipients() {
    return recipients;
  }

  @Override
  public MaybeSender getMaybeSender() {
    return sender;
  }

  @Override
  public OutputStream getMessageOutputStream() {
    return output;
  }

  @Override
  public InputStream getMessageInputStream() throws IOException {
    return buffer.open();
  }

  ContentBuffer buffer() {
    return buffer;
  }

  /** The first write that failed, or null. */
  IOException failure() {
    return failure;
  }
}
