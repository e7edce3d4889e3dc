package org.postilion.queue.reception;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.delivery.Response;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.ReceptionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out {@link ContentBuffer}s for arriving messages and keeps their memory and disk within
 * bounds: a message keeps at most {@code memory_per_message} on the heap, all messages in flight at
 * most {@code memory_total}; the rest goes to temporary files, which together may take at most
 * {@code max_disk} and must leave {@code min_free_disk} free. Beyond that, new mail is refused with
 * 451 4.3.1 until some is spooled.
 */
@Component(
    service = ReceptionBuffers.class,
    immediate = true,
    configurationPid = "org.postilion.queue.reception")
@Designate(ocd = ReceptionBuffers.Config.class)
public class ReceptionBuffers {
  private static final Logger LOG = LoggerFactory.getLogger(ReceptionBuffers.class);

  /** How often the free disk space is looked at again, in bytes written to spill files. */
  private static final long FREE_SPACE_CHECK_EVERY = 16L * 1024 * 1024;

  @ObjectClassDefinition(
      name = "Postilion reception buffers",
      description = "Memory and disk for messages that are arriving")
  public @interface Config {
    @AttributeDefinition(description = "Bytes of one arriving message kept in memory")
    long memory__per__message() default 256 * 1024;

    @AttributeDefinition(
        description = "Bytes of all arriving messages kept in memory; 0 for an eighth of the heap")
    long memory__total() default 0;

    @AttributeDefinition(
        description = "Folder of the temporary files; empty for ${karaf.data}/tmp/reception")
    String directory() default "";

    @AttributeDefinition(description = "Bytes all temporary files may take; 0 for no limit")
    long max__disk() default 8L * 1024 * 1024 * 1024;

    @AttributeDefinition(
        description = "Free bytes left on the folder's disk before mail is refused")
    long min__free__disk() default 256L * 1024 * 1024;
  }

  private final AtomicLong memoryInUse = new AtomicLong();
  private final AtomicLong diskInUse = new AtomicLong();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong writtenSinceCheck = new AtomicLong();
  private volatile long freeSpace = Long.MAX_VALUE;
  private volatile Settings settings;

  private record Settings(
      long memoryPerMessage, long memoryTotal, Path directory, long maxDisk, long minFreeDisk) {}

  @Activate
  void activate(Config config) throws IOException {
    configure(config);
    removeLeftovers(settings.directory());
  }

  @Modified
  void configure(Config config) throws IOException {
    long memoryTotal =
        config.memory__total() > 0 ? config.memory__total() : Runtime.getRuntime().maxMemory() / 8;
    Path directory =
        config.directory().isBlank()
            ? Path.of(System.getProperty("karaf.data", "data"), "tmp", "reception")
            : Path.of(config.directory());
    Files.createDirectories(directory);
    settings =
        new Settings(
            Math.max(0, config.memory__per__message()),
            memoryTotal,
            directory.toAbsolutePath(),
            config.max__disk() <= 0 ? Long.MAX_VALUE : config.max__disk(),
            Math.max(0, config.min__free__disk()));
    refreshFreeSpace();
  }

  /** For tests: buffers in {@code directory} with the given limits. */
  public static ReceptionBuffers of(
      Path directory, long memoryPerMessage, long memoryTotal, long maxDisk, long minFreeDisk)
      throws IOException {
    ReceptionBuffers buffers = new ReceptionBuffers();
    Files.createDirectories(directory);
    buffers.settings =
        new Settings(
            memoryPerMessage,
            memoryTotal,
            directory,
            maxDisk <= 0 ? Long.MAX_VALUE : maxDisk,
            minFreeDisk);
    buffers.refreshFreeSpace();
    return buffers;
  }

  /**
   * A new buffer.
   *
   * @throws ReceptionException 451 4.3.1 when the temporary files already take all the room
   */
  public ContentBuffer buffer() throws ReceptionException {
    if (!hasDiskRoom(1)) {
      throw new ReceptionException(Response.of(451, "4.3.1", noRoomReason()));
    }
    return new SpillBuffer(this);
  }

  /** Bytes of arriving messages on the heap now. */
  public long memoryInUse() {
    return memoryInUse.get();
  }

  /** Bytes of arriving messages in temporary files now. */
  public long diskInUse() {
    return diskInUse.get();
  }

  long memoryPerMessage() {
    return settings.memoryPerMessage();
  }

  boolean reserveMemory(long bytes) {
    long limit = settings.memoryTotal();
    while (true) {
      long used = memoryInUse.get();
      if (used + bytes > limit) {
        return false;
      }
      if (memoryInUse.compareAndSet(used, used + bytes)) {
        return true;
      }
    }
  }

  void releaseMemory(long bytes) {
    memoryInUse.addAndGet(-bytes);
  }

  boolean reserveDisk(long bytes) {
    if (writtenSinceCheck.addAndGet(bytes) > FREE_SPACE_CHECK_EVERY) {
      writtenSinceCheck.set(0);
      refreshFreeSpace();
    }
    if (!hasDiskRoom(bytes)) {
      return false;
    }
    diskInUse.addAndGet(bytes);
    return true;
  }

  void releaseDisk(long bytes) {
    diskInUse.addAndGet(-bytes);
  }

  private boolean hasDiskRoom(long bytes) {
    Settings current = settings;
    return diskInUse.get() + bytes <= current.maxDisk()
        && freeSpace - bytes >= current.minFreeDisk();
  }

  String noRoomReason() {
    return "insufficient system storage, try again later";
  }

  Path newSpillFile() {
    return settings
        .directory()
        .resolve(
            "incoming-"
                + sequence.incrementAndGet()
                + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
  }

  void closeFailed(IOException e) {
    LOG.warn("Cannot remove a reception buffer file: {}", e.toString());
  }

  private void refreshFreeSpace() {
    try {
      freeSpace = Files.getFileStore(settings.directory()).getUsableSpace();
    } catch (IOException e) {
      LOG.warn("Cannot read the free space of {}: {}", settings.directory(), e.toString());
    }
  }

  /** Files of a process that died while messages arrived: none of them was acknowledged. */
  private static void removeLeftovers(Path directory) throws IOException {
    int removed = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "incoming-*.tmp")) {
      for (Path file : files) {
        Files.deleteIfExists(file);
        removed++;
      }
    }
    if (removed > 0) {
      LOG.info("Removed {} reception buffers of messages never acknowledged", removed);
    }
  }
}
