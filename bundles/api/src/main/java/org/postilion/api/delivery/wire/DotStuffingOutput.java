package org.postilion.api.delivery.wire;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes message content as SMTP DATA: a dot at the start of a line is doubled (RFC 5321 4.5.2), a
 * lone LF becomes CRLF, and {@link #finish()} ends the data with CRLF.CRLF.
 */
public final class DotStuffingOutput extends FilterOutputStream {
  private boolean atLineStart = true;
  private int previous = -1;

  public DotStuffingOutput(OutputStream out) {
    super(out);
  }

  @Override
  public void write(int b) throws IOException {
    if (b == '\n' && previous != '\r') {
      out.write('\r');
    }
    if (atLineStart && b == '.') {
      out.write('.');
    }
    out.write(b);
    atLineStart = b == '\n';
    previous = b;
  }

  /**
   * Copies runs of ordinary bytes in one write; only line ends and leading dots are special. The
   * state lives in locals while scanning: this loop sees every byte of every message sent.
   */
  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    int end = offset + length;
    int runStart = offset;
    boolean lineStart = atLineStart;
    int last = previous;
    for (int i = offset; i < end; i++) {
      byte b = bytes[i];
      if (b == '\n') {
        if (last != '\r') {
          out.write(bytes, runStart, i - runStart);
          out.write('\r');
          runStart = i;
        }
        lineStart = true;
      } else {
        if (lineStart && b == '.') {
          out.write(bytes, runStart, i - runStart);
          out.write('.');
          runStart = i;
        }
        lineStart = false;
      }
      last = b;
    }
    out.write(bytes, runStart, end - runStart);
    atLineStart = lineStart;
    previous = last;
  }

  /** Completes the last line if needed and writes the terminating dot line. */
  public void finish() throws IOException {
    if (!atLineStart) {
      if (previous != '\r') {
        out.write('\r');
      }
      out.write('\n');
    }
    out.write(new byte[] {'.', '\r', '\n'});
  }

  @Override
  public void close() {
    // The connection outlives the message: closing the data must not close the socket.
  }
}
