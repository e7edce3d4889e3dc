package org.postilion.queue.bus;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries every event record to every subscriber (the event log, event webhooks, metrics, the
 * events route) asynchronously: each subscriber reads on a thread of its own, so delivery never
 * waits for one, and one that falls behind gets its records from disk later, never fewer of them.
 *
 * <p>A durable subscriber (one with a name) gets every record even across its absence: while its
 * bundle is stopped or updated its records wait, on disk past a few thousand, and at the queue
 * manager's stop they are kept in {@code durable-<name>.spill} for the next run.
 */
public final class EventBus {
  private static final Logger LOG = LoggerFactory.getLogger(EventBus.class);

  /** Records a subscriber may lag behind in memory before later ones wait on disk. */
  static final int MEMORY_BACKLOG = 8192;

  /** Bytes of records that may wait on disk for a durable subscriber that is away. */
  static final long MAX_WAITING_BYTES = 1L << 30;

  private static final String DURABLE_PREFIX = "durable-";

  private final Path spillFolder;
  private final int memoryBacklog;
  private final List<EventChannel> channels = new CopyOnWriteArrayList<>();
  private final long maxWaitingBytes;
  private final AtomicInteger names = new AtomicInteger();

  public EventBus(Path spillFolder) {
    this(spillFolder, MEMORY_BACKLOG, MAX_WAITING_BYTES);
  }

  EventBus(Path spillFolder, int memoryBacklog, long maxWaitingBytes) {
    this.spillFolder = spillFolder;
    this.memoryBacklog = memoryBacklog;
    this.maxWaitingBytes = maxWaitingBytes;
    try {
      Files.createDirectories(spillFolder);
      try (DirectoryStream<Path> old = Files.newDirectoryStream(spillFolder, "*.spill")) {
        for (Path file : old) {
          String fileName = file.getFileName().toString();
          if (fileName.startsWith(DURABLE_PREFIX)) {
            // Records kept at the last stop for a durable subscriber: they wait for it.
            String name =
                fileName.substring(DURABLE_PREFIX.length(), fileName.length() - ".spill".length());
            EventChannel channel = channel(null, name, true);
            try {
              channel.resume();
            } catch (IOException e) {
              Path aside = file.resolveSibling(fileName + ".unreadable");
              LOG.error("Cannot read event records kept in {}; moved to {}", file, aside, e);
              Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
              continue;
            }
            channels.add(channel);
            channel.start();
          } else {
            Files.deleteIfExists(file);
          }
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot prepare {} for event records: {}", spillFolder, e.toString());
    }
  }

  private EventChannel channel(EventListener listener, String name, boolean durable) {
    String file = (durable ? DURABLE_PREFIX : "") + name + ".spill";
    return new EventChannel(
        listener, memoryBacklog, spillFolder.resolve(file), name, durable, maxWaitingBytes);
  }

  /** A subscriber that gets the records published while it is subscribed. */
  public void subscribe(EventListener listener) {
    int number = names.incrementAndGet();
    // A lambda's class name holds a '/': keep file and thread names plain.
    String name =
        listener.getClass().getSimpleName().replaceAll("[^A-Za-z0-9_-]", "_") + "-" + number;
    EventChannel channel = channel(listener, name, false);
    channels.add(channel);
    channel.start();
  }

  /**
   * A durable subscriber: it first gets what waited for {@code durableName} while no subscriber of
   * that name was here, then every new record.
   */
  public synchronized void subscribe(EventListener listener, String durableName) {
    String name = durableName.replaceAll("[^A-Za-z0-9._-]", "_");
    for (EventChannel channel : channels) {
      if (channel.durable() && channel.name().equals(name)) {
        if (channel.listener() != null) {
          LOG.warn("Two event subscribers are named {}; the second one is not durable", name);
          subscribe(listener);
        } else {
          channel.attach(listener);
        }
        return;
      }
    }
    EventChannel channel = channel(listener, name, true);
    channels.add(channel);
    channel.start();
  }

  /**
   * Stops carrying records to {@code listener}: a durable subscriber's records wait for its return;
   * another one first reads what waits (a few seconds).
   */
  public synchronized void unsubscribe(EventListener listener) {
    for (EventChannel channel : channels) {
      if (channel.listener() != listener) {
        continue;
      }
      try {
        if (channel.durable()) {
          channel.detach(5_000);
        } else {
          channels.remove(channel);
          channel.close(5_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Hands the record to every subscriber; returns at once. */
  public void publish(EventRecord record) {
    for (EventChannel channel : channels) {
      channel.publish(record);
    }
  }

  /** Records waiting for the slowest subscriber. */
  public long backlog() {
    long most = 0;
    for (EventChannel channel : channels) {
      most = Math.max(most, channel.backlog());
    }
    return most;
  }

  public void close() {
    for (EventChannel channel : channels) {
      try {
        channel.close(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    channels.clear();
  }
}
