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
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscriber's records on their way to it, on a thread of its own. Up to {@code capacity}
 * records wait in memory; when the subscriber falls further behind, new records wait in a file
 * instead, in order, until it has caught up. Publishing never waits for the subscriber and never
 * drops a record.
 *
 * <p>A durable channel outlives its subscriber: while the subscriber is away (its bundle stopped or
 * updated) records keep coming and wait, and they are read when a subscriber of that name returns.
 * At stop, what still waits is written to the file, which the next run reads first.
 */
final class EventChannel implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(EventChannel.class);

  private final String name;
  private final int capacity;
  private final Path overflowFile;
  private final boolean durable;
  private final long maxWaitingBytes;
  private final Deque<EventRecord> memory = new ArrayDeque<>();
  private final Thread thread;

  // Guarded by this.
  private EventListener listener;
  private boolean delivering;
  private EventListener deliveringTo;
  private FileChannel overflow;
  private long written;
  private long read;
  private long waitingOnDisk;
  private long dropped;
  private boolean closed;

  /**
   * @param listener the subscriber, or {@code null} for a durable channel whose subscriber has not
   *     come back yet
   * @param maxWaitingBytes how much may wait on disk for a subscriber that is away, after which
   *     records for it are dropped (and counted in the log)
   */
  EventChannel(
      EventListener listener,
      int capacity,
      Path overflowFile,
      String name,
      boolean durable,
      long maxWaitingBytes) {
    this.listener = listener;
    this.name = name;
    this.capacity = capacity;
    this.overflowFile = overflowFile;
    this.durable = durable;
    this.maxWaitingBytes = maxWaitingBytes;
    this.thread = DaemonThreads.of("postilion-events-" + name, this);
  }

  synchronized EventListener listener() {
    return listener;
  }

  String name() {
    return name;
  }

  boolean durable() {
    return durable;
  }

  /** Takes up the records a previous run left in the file, before any new one. */
  synchronized void resume() throws IOException {
    if (!Files.exists(overflowFile) || Files.size(overflowFile) == 0) {
      Files.deleteIfExists(overflowFile);
      return;
    }
    overflow = FileChannel.open(overflowFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
    written = overflow.size();
    read = 0;
    waitingOnDisk = 0;
    ByteBuffer length = ByteBuffer.allocate(4);
    for (long at = 0; at + 4 <= written; ) {
      length.clear();
      readFully(length, at);
      at += 4 + length.flip().getInt();
      waitingOnDisk++;
    }
    LOG.info("{} event records from the last run wait for subscriber {}", waitingOnDisk, name);
  }

  void start() {
    thread.start();
  }

  /** A subscriber of this durable channel's name is here (again): it gets what waited first. */
  synchronized void attach(EventListener subscriber) {
    listener = subscriber;
    if (dropped > 0) {
      LOG.error("{} event records for subscriber {} were dropped while it was away", dropped, name);
      dropped = 0;
    }
    notifyAll();
  }

  /**
   * The subscriber is going away: once the record it is reading (if any) is done, records wait for
   * the next subscriber of this name instead, for up to {@code millis}.
   */
  synchronized void detach(long millis) throws InterruptedException {
    listener = null;
    long end = System.currentTimeMillis() + millis;
    while (delivering && System.currentTimeMillis() < end) {
      wait(Math.max(1, end - System.currentTimeMillis()));
    }
    LOG.info("Event subscriber {} is away; its records wait for it", name);
  }

  /** Queues a record for the subscriber; returns at once. */
  synchronized void publish(EventRecord record) {
    if (closed) {
      return;
    }
    if (listener == null && written - read > maxWaitingBytes) {
      if (dropped++ == 0) {
        LOG.error(
            "Event subscriber {} is away and {} bytes of records wait for it; further records"
                + " for it are dropped until it returns",
            name,
            written - read);
      }
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
      LOG.error("Cannot spill event records for {} to {}", name, overflowFile, e);
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
          name,
          capacity,
          overflowFile);
    }
    ByteBuffer frame = frame(record);
    while (frame.hasRemaining()) {
      written += overflow.write(frame, written);
    }
    waitingOnDisk++;
  }

  /**
   * The next record for the subscriber: memory first (older), then the file. Null once closed and
   * drained, or once closed at all for a durable channel, whose records wait for the next run.
   */
  private synchronized EventRecord next() throws InterruptedException {
    delivering = false;
    notifyAll();
    while (true) {
      if (closed && durable) {
        return null;
      }
      if (listener == null) {
        wait();
        continue;
      }
      delivering = true;
      deliveringTo = listener;
      if (!memory.isEmpty()) {
        return memory.pollFirst();
      }
      if (overflow != null) {
        if (read < written) {
          try {
            return readFromDisk();
          } catch (IOException | ClassNotFoundException e) {
            LOG.error("Spilled event records for {} cannot be read; skipping them", name, e);
            read = written;
            waitingOnDisk = 0;
          }
        }
        closeOverflow();
        continue;
      }
      delivering = false;
      if (closed) {
        return null;
      }
      wait();
    }
  }

  /** A record as it is kept on disk: its length, then its serialized form. */
  private static ByteBuffer frame(EventRecord record) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(record);
    }
    ByteBuffer frame = ByteBuffer.allocate(4 + bytes.size());
    frame.putInt(bytes.size()).put(bytes.toByteArray()).flip();
    return frame;
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
    LOG.info("Event subscriber {} has caught up", name);
  }

  @Override
  public void run() {
    try {
      EventRecord record;
      while ((record = next()) != null) {
        EventListener subscriber;
        synchronized (this) {
          subscriber = deliveringTo;
        }
        try {
          subscriber.onEvent(record);
        } catch (RuntimeException e) {
          LOG.warn("Event subscriber {} failed on a {} record", name, record.type(), e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Lets the subscriber take what waits, for up to {@code millis}, then stops its thread. A durable
   * channel stops after the record at hand and keeps what waits in its file instead.
   */
  void close(long millis) throws InterruptedException {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    thread.join(millis);
    if (thread.isAlive()) {
      thread.interrupt();
      if (!durable) {
        LOG.warn("Event subscriber {} left {} records unread at stop", name, backlog());
      }
    }
    synchronized (this) {
      if (durable) {
        keepForNextRun();
      } else if (overflow != null) {
        closeOverflow();
      }
    }
  }

  /** Writes what waits, in order (memory, then the rest of the file), to the file. */
  private void keepForNextRun() {
    if (memory.isEmpty() && (overflow == null || read >= written)) {
      if (overflow != null) {
        closeOverflow();
      }
      return;
    }
    long kept = backlog();
    Path next = overflowFile.resolveSibling(overflowFile.getFileName() + ".next");
    try (FileChannel out =
        FileChannel.open(
            next,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      for (EventRecord record : memory) {
        ByteBuffer frame = frame(record);
        while (frame.hasRemaining()) {
          out.write(frame);
        }
      }
      if (overflow != null) {
        for (long at = read; at < written; ) {
          at += overflow.transferTo(at, written - at, out);
        }
        overflow.close();
        overflow = null;
      }
      out.force(true);
    } catch (IOException e) {
      LOG.error("Cannot keep {} event records for subscriber {} in {}", kept, name, next, e);
      return;
    }
    try {
      Files.move(
          next, overflowFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      memory.clear();
      LOG.info(
          "{} event records for subscriber {} wait in {} for the next run",
          kept,
          name,
          overflowFile);
    } catch (IOException e) {
      LOG.error(
          "Cannot keep {} event records for subscriber {} in {}", kept, name, overflowFile, e);
    }
  }
}
