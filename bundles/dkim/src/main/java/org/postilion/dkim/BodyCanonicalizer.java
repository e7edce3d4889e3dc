package org.postilion.dkim;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Puts a message body into canonical form (RFC 6376 sections 3.4.3 and 3.4.4) as it streams past,
 * so a body of any size is hashed without being held in memory. Empty lines are held back until a
 * line with content follows, because empty lines at the end of the body do not count.
 */
final class BodyCanonicalizer extends OutputStream {
  private static final byte CR = '\r';
  private static final byte LF = '\n';

  private final boolean relaxed;
  private final OutputStream sink;
  private final byte[] buffer = new byte[8192];
  private int buffered;
  private long written;
  private boolean pendingCr;
  private boolean pendingSpace;
  private boolean lineHasContent;
  private long emptyLines;
  private boolean finished;

  BodyCanonicalizer(Canonicalization canonicalization, OutputStream sink) {
    this.relaxed = canonicalization == Canonicalization.RELAXED;
    this.sink = sink;
  }

  /** Canonical bytes produced so far (all of them once {@link #finish()} returned). */
  long length() {
    return written;
  }

  @Override
  public void write(int b) throws IOException {
    accept((byte) b);
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    for (int i = offset; i < offset + length; i++) {
      accept(bytes[i]);
    }
  }

  private void accept(byte b) throws IOException {
    if (b == LF && pendingCr) {
      pendingCr = false;
      endLine();
      return;
    }
    if (pendingCr) {
      pendingCr = false;
      content(CR);
    }
    if (b == CR) {
      pendingCr = true;
    } else {
      content(b);
    }
  }

  private void content(byte b) throws IOException {
    if (relaxed && (b == ' ' || b == '\t')) {
      pendingSpace = true;
      return;
    }
    while (emptyLines > 0) {
      emit(CR);
      emit(LF);
      emptyLines--;
    }
    if (pendingSpace) {
      emit((byte) ' ');
      pendingSpace = false;
    }
    emit(b);
    lineHasContent = true;
  }

  private void endLine() throws IOException {
    if (lineHasContent) {
      emit(CR);
      emit(LF);
    } else {
      emptyLines++;
    }
    lineHasContent = false;
    pendingSpace = false;
  }

  /** Ends the body: a last line without CRLF gets one; an empty body is CRLF in simple form. */
  void finish() throws IOException {
    if (finished) {
      return;
    }
    finished = true;
    if (pendingCr) {
      pendingCr = false;
      content(CR);
    }
    if (lineHasContent) {
      endLine();
    }
    if (written == 0 && !relaxed) {
      emit(CR);
      emit(LF);
    }
    drain();
  }

  private void emit(byte b) throws IOException {
    if (buffered == buffer.length) {
      drain();
    }
    buffer[buffered++] = b;
    written++;
  }

  private void drain() throws IOException {
    sink.write(buffer, 0, buffered);
    buffered = 0;
  }

  @Override
  public void flush() throws IOException {
    drain();
    sink.flush();
  }
}
