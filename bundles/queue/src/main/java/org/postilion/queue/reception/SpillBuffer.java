package org.postilion.queue.reception;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.NoRoomException;

/**
 * A message's bytes as they arrive: the first ones in memory chunks reserved from the server's
 * budget, the rest in a temporary file that goes when the buffer is closed (on Linux it is unlinked
 * at once, so not even a crash leaves it behind). Reading back starts a fresh stream each time and
 * may run while nothing is being written any more.
 */
final class SpillBuffer implements ContentBuffer {
  private static final int FIRST_CHUNK = 8 * 1024;
  private static final int MAX_CHUNK = 64 * 1024;
  private static final int WRITE_BUFFER = 64 * 1024;

  private final ReceptionBuffers owner;
  private final List<byte[]> chunks = new ArrayList<>();
  private int lastChunkUsed;
  private long memoryBytes;
  private long reservedMemory;
  private FileChannel file;

  /** Bytes written to the file, those still in {@link #pending} included. */
  private long fileBytes;

  /** Collects small writes (SMTP hands over a line at a time) into few system calls. */
  private ByteBuffer pending;

  private long reservedDisk;
  private boolean closed;
  private final Output output = new Output();

  SpillBuffer(ReceptionBuffers owner) {
    this.owner = owner;
  }

  @Override
  public OutputStream output() {
    return output;
  }

  @Override
  public synchronized long size() {
    return memoryBytes + fileBytes;
  }

  @Override
  public synchronized InputStream open() throws IOException {
    if (closed) {
      throw new IOException("the reception buffer is closed");
    }
    flushPending();
    return new Reader(List.copyOf(chunks), lastChunkUsed, file, fileBytes);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    chunks.clear();
    owner.releaseMemory(reservedMemory);
    owner.releaseDisk(reservedDisk);
    reservedMemory = 0;
    reservedDisk = 0;
    if (file != null) {
      try {
        file.close();
      } catch (IOException e) {
        owner.closeFailed(e);
      }
    }
  }

  /** Whether any byte went to disk: for tests and for the memory budget's statistics. */
  synchronized boolean spilled() {
    return file != null;
  }

  private synchronized void write(byte[] bytes, int offset, int length) throws IOException {
    if (closed) {
      throw new IOException("the reception buffer is closed");
    }
    int from = offset;
    int left = length;
    while (left > 0 && file == null) {
      if (chunks.isEmpty() || lastChunkUsed == chunks.get(chunks.size() - 1).length) {
        if (!addChunk()) {
          break;
        }
      }
      byte[] chunk = chunks.get(chunks.size() - 1);
      int n = Math.min(left, chunk.length - lastChunkUsed);
      System.arraycopy(bytes, from, chunk, lastChunkUsed, n);
      lastChunkUsed += n;
      memoryBytes += n;
      from += n;
      left -= n;
    }
    if (left > 0) {
      writeToFile(ByteBuffer.wrap(bytes, from, left));
    }
  }

  /** A new memory chunk, when this message and the server's budget still have room for one. */
  private boolean addChunk() {
    int size =
        chunks.isEmpty()
            ? FIRST_CHUNK
            : Math.min(MAX_CHUNK, chunks.get(chunks.size() - 1).length * 2);
    if (memoryBytes + size > owner.memoryPerMessage() || !owner.reserveMemory(size)) {
      return false;
    }
    reservedMemory += size;
    chunks.add(new byte[size]);
    lastChunkUsed = 0;
    return true;
  }

  private void writeToFile(ByteBuffer data) throws IOException {
    int length = data.remaining();
    if (!owner.reserveDisk(length)) {
      throw new NoRoomException(owner.noRoomReason());
    }
    reservedDisk += length;
    if (file == null) {
      Path path = owner.newSpillFile();
      file =
          FileChannel.open(
              path,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE,
              StandardOpenOption.DELETE_ON_CLOSE);
      pending = ByteBuffer.allocate(WRITE_BUFFER);
    }
    if (length > pending.remaining()) {
      flushPending();
    }
    if (length >= pending.capacity()) {
      long position = fileBytes;
      while (data.hasRemaining()) {
        position += file.write(data, position);
      }
    } else {
      pending.put(data);
    }
    fileBytes += length;
  }

  /** Writes what {@link #pending} holds, so a reader sees every byte written. */
  private void flushPending() throws IOException {
    if (pending == null || pending.position() == 0) {
      return;
    }
    pending.flip();
    long position = fileBytes - pending.remaining();
    while (pending.hasRemaining()) {
      position += file.write(pending, position);
    }
    pending.clear();
  }

  private final class Output extends OutputStream {
    private final byte[] one = new byte[1];

    @Override
    public void write(int b) throws IOException {
      one[0] = (byte) b;
      SpillBuffer.this.write(one, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      SpillBuffer.this.write(bytes, offset, length);
    }
  }

  /** Reads the memory chunks, then the file with positional reads (no shared file position). */
  private static final class Reader extends InputStream {
    private final List<byte[]> chunks;
    private final int lastChunkUsed;
    private final FileChannel file;
    private final long fileBytes;
    private int chunk;
    private int inChunk;
    private long filePosition;

    Reader(List<byte[]> chunks, int lastChunkUsed, FileChannel file, long fileBytes) {
      this.chunks = chunks;
      this.lastChunkUsed = lastChunkUsed;
      this.file = file;
      this.fileBytes = fileBytes;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] into, int offset, int length) throws IOException {
      if (length == 0) {
        return 0;
      }
      while (chunk < chunks.size()) {
        int end = chunk == chunks.size() - 1 ? lastChunkUsed : chunks.get(chunk).length;
        if (inChunk < end) {
          int n = Math.min(length, end - inChunk);
          System.arraycopy(chunks.get(chunk), inChunk, into, offset, n);
          inChunk += n;
          return n;
        }
        chunk++;
        inChunk = 0;
      }
      if (file == null || filePosition >= fileBytes) {
        return -1;
      }
      int wanted = (int) Math.min(length, fileBytes - filePosition);
      int n = file.read(ByteBuffer.wrap(into, offset, wanted), filePosition);
      if (n < 0) {
        throw new IOException("the reception buffer's file ended early");
      }
      filePosition += n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = 0;
      while (skipped < n && chunk < chunks.size()) {
        int end = chunk == chunks.size() - 1 ? lastChunkUsed : chunks.get(chunk).length;
        int step = (int) Math.min(n - skipped, end - inChunk);
        inChunk += step;
        skipped += step;
        if (inChunk >= end) {
          chunk++;
          inChunk = 0;
        }
      }
      if (skipped < n && file != null) {
        long step = Math.min(n - skipped, fileBytes - filePosition);
        filePosition += step;
        skipped += step;
      }
      return skipped;
    }
  }
}
