package org.postilion.api.delivery;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The RFC 5322 bytes of a message, read on demand: from the spool, from a reception buffer that may
 * lie on disk, or from memory for a message built in the server. Large messages are never held
 * whole in the heap; read them as streams.
 */
public interface MessageContent {

  /** A fresh stream over the whole message; the caller closes it. */
  InputStream open() throws IOException;

  /** The size in bytes. */
  long size();

  /** Bytes already in memory. */
  static MessageContent of(byte[] bytes) {
    return new MessageContent() {
      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes);
      }

      @Override
      public long size() {
        return bytes.length;
      }
    };
  }

  /** The bytes of {@code content} from {@code offset} on, read without copying the rest first. */
  static MessageContent from(MessageContent content, long offset) {
    if (offset < 0 || offset > content.size()) {
      throw new IllegalArgumentException("offset " + offset + " outside 0.." + content.size());
    }
    if (offset == 0) {
      return content;
    }
    return new MessageContent() {
      @Override
      public InputStream open() throws IOException {
        InputStream in = content.open();
        try {
          in.skipNBytes(offset);
        } catch (IOException | RuntimeException e) {
          in.close();
          throw e;
        }
        return in;
      }

      @Override
      public long size() {
        return content.size() - offset;
      }
    };
  }
}
