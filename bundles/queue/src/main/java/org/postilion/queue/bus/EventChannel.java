package org.postilion.queue.bus;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscriber's records on their way to it, on a thread of its own. Up to {@code capacity}
 * records wait in memory; when the subscriber falls further behind, new records wait in a file
 * instead, in order, until it has caught up. Publishing never waits for the subscriber and never
 * drops a record.
 */
final class EventChannel implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(EventChannel.class);

  private final EventListener listener;
  private final int capacity;
  private final Path overflowFile;
  private final Deque<EventRecord> memory = new ArrayDeque<>();
  private final Thread thread;

  // Guarded by this.
  private FileChannel overflow;
  private long written;
  private long read;
  private long waitingOnDisk;
  private boolean closed;

  EventChannel(EventListener listener, int capacity, Path overflowFile, String name) {
    this.listener = listener;
    this.capacity = capacity;
    this.overflowFile = overflowFile;
    this.thread = new Thread(this, "postilion-events-" + name);
    thread.setDaemon(true);
  }

  EventListener listener() {
    return listener;
  }

  void start() {
    thread.start();
  }

  /** Queues a record for the subscriber; returns at once. */
  synchronized void publish(EventRecord record) {
    if (closed) {
      return;
    }
    if (overflow == null && memory.size() < capacity) {
      memory.addLast(record);
      notifyAll();
      return;
    }
    try {
      append(record);
      notifyAll();
    } catch (IOException e) {
      // The disk failed us: keep the record in memory rather than lose it.
      LOG.error("Cannot spill event records for {} to {}", listener, overflowFile, e);
      memory.addLast(record);
    }
  }

  /** Records waiting for the subscriber, in memory and on disk. */
  synchronized long backlog() {
    return memory.size() + waitingOnDisk;
  }

  private void append(EventRecord record) throws IOException {
    if (overflow == null) {
      overflow =
          FileChannel.open(
              overflowFile,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      written = 0;
      read = 0;
      LOG.warn(
          "Event subscriber {} is {} records behind; further records wait in {}",
          listener,
          capacity,
          overflowFile);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(record);
    }
    ByteBuffer frame = ByteBuffer.allocate(4 + bytes.size());
    frame.putInt(bytes.size()).put(bytes.toByteArray()).flip();
    while (frame.hasRemaining()) {
      written += overflow.write(frame, written);
    }
    waitingOnDisk++;
  }

  /** The next record: memory first (older), then the file; null once closed and drained. */
  private synchronized EventRecord next() throws InterruptedException {
    while (true) {
      if (!memory.isEmpty()) {
        return memory.pollFirst();
      }
      if (overflow != null) {
        if (read < written) {
          try {
            return readFromDisk();
          } catch (IOException | ClassNotFoundException e) {
            LOG.error("Spilled event records for {} cannot be read; skipping them", listener, e);
            read = written;
            waitingOnDisk = 0;
          }
        }
        closeOverflow();
        continue;
      }
      if (closed) {
        return null;
      }
      wait();
    }
  }

  private EventRecord readFromDisk() throws IOException, ClassNotFoundException {
    ByteBuffer length = ByteBuffer.allocate(4);
    readFully(length, read);
    int size = length.flip().getInt();
    ByteBuffer data = ByteBuffer.allocate(size);
    readFully(data, read + 4);
    read += 4 + size;
    waitingOnDisk--;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(data.array()))) {
      return (EventRecord) in.readObject();
    }
  }

  private void readFully(ByteBuffer into, long position) throws IOException {
    long at = position;
    while (into.hasRemaining()) {
      int n = overflow.read(into, at);
      if (n < 0) {
        throw new IOException("spilled event records end early");
      }
      at += n;
    }
  }

  /** The subscriber caught up: back to memory, and the file goes. */
  private void closeOverflow() {
    try {
      overflow.close();
      Files.deleteIfExists(overflowFile);
    } catch (IOException e) {
      LOG.warn("Cannot remove {}: {}", overflowFile, e.toString());
    }
    overflow = null;
    LOG.info("Event subscriber {} has caught up", listener);
  }

  @Override
  public void run() {
    try {
      EventRecord record;
      while ((record = next()) != null) {
        try {
          listener.onEvent(record);
        } catch (RuntimeException e) {
          LOG.warn("Event subscriber {} failed on a {} record", listener, record.type(), e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Lets the subscriber take what waits, for up to {@code millis}, then stops its thread. */
  void close(long millis) throws InterruptedException {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    thread.join(millis);
    if (thread.isAlive()) {
      thread.interrupt();
      LOG.warn("Event subscriber {} left {} records unread at stop", listener, backlog());
    }
    synchronized (this) {
      if (overflow != null) {
        closeOverflow();
      }
    }
  }
}
