package org.postilion.queue.bus;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
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
 */
public final class EventBus {
  private static final Logger LOG = LoggerFactory.getLogger(EventBus.class);

  /** Records a subscriber may lag behind in memory before later ones wait on disk. */
  static final int MEMORY_BACKLOG = 8192;

  private final Path spillFolder;
  private final int memoryBacklog;
  private final List<EventChannel> channels = new CopyOnWriteArrayList<>();
  private final AtomicInteger names = new AtomicInteger();

  public EventBus(Path spillFolder) {
    this(spillFolder, MEMORY_BACKLOG);
  }

  EventBus(Path spillFolder, int memoryBacklog) {
    this.spillFolder = spillFolder;
    this.memoryBacklog = memoryBacklog;
    try {
      Files.createDirectories(spillFolder);
      try (DirectoryStream<Path> old = Files.newDirectoryStream(spillFolder, "*.spill")) {
        for (Path file : old) {
          Files.deleteIfExists(file);
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot prepare {} for event records: {}", spillFolder, e.toString());
    }
  }

  public void subscribe(EventListener listener) {
    int number = names.incrementAndGet();
    // A lambda's class name holds a '/': keep file and thread names plain.
    String name =
        listener.getClass().getSimpleName().replaceAll("[^A-Za-z0-9_-]", "_") + "-" + number;
    EventChannel channel =
        new EventChannel(listener, memoryBacklog, spillFolder.resolve(name + ".spill"), name);
    channels.add(channel);
    channel.start();
  }

  /** Stops carrying records to {@code listener}, after it read what waits (a few seconds). */
  public void unsubscribe(EventListener listener) {
    for (EventChannel channel : channels) {
      if (channel.listener() == listener) {
        channels.remove(channel);
        try {
          channel.close(5_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
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
