package org.postilion.dkim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Private keys by file, read once and read again when the file changes (its modification time or
 * size), so that a rotated key is used from the next message on without a restart. A key that
 * cannot be used is logged once per change of its file, not once per message.
 */
final class KeyCache {
  private static final Logger LOG = LoggerFactory.getLogger(KeyCache.class);

  /** The key read from one version of a file, or why there is none. */
  private record Entry(FileTime modified, long size, SigningKey key, String problem) {}

  private final Map<Path, Entry> entries = new ConcurrentHashMap<>();

  /**
   * @throws KeyUnavailableException when the file is missing, unreadable, or holds no usable key
   */
  SigningKey key(Path file) throws KeyUnavailableException {
    FileTime modified;
    long size;
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      modified = attributes.lastModifiedTime();
      size = attributes.size();
    } catch (NoSuchFileException e) {
      throw unavailable(file, new Entry(null, -1, null, "key file " + file + " does not exist"));
    } catch (IOException e) {
      throw unavailable(file, new Entry(null, -1, null, "cannot read key file " + file + ": " + e));
    }
    Entry cached = entries.get(file);
    if (cached == null || !modified.equals(cached.modified()) || size != cached.size()) {
      cached = load(file, modified, size);
    }
    if (cached.key() == null) {
      throw unavailable(file, cached);
    }
    return cached.key();
  }

  private Entry load(Path file, FileTime modified, long size) {
    Entry loaded;
    try {
      SigningKey key = KeyFiles.read(file);
      loaded = new Entry(modified, size, key, null);
      LOG.info("DKIM key {} loaded: {}, {} bits", file, key.algorithm(), key.bits());
    } catch (IOException | RuntimeException e) {
      loaded =
          new Entry(modified, size, null, "cannot use key file " + file + ": " + e.getMessage());
    }
    Entry previous = entries.put(file, loaded);
    if (loaded.key() == null
        && (previous == null || !loaded.problem().equals(previous.problem()))) {
      LOG.error("{}; messages it should sign are sent unsigned", loaded.problem());
    }
    return loaded;
  }

  private KeyUnavailableException unavailable(Path file, Entry problem) {
    Entry previous = entries.put(file, problem);
    if (problem.modified() == null
        && (previous == null || !problem.problem().equals(previous.problem()))) {
      LOG.error("{}; messages it should sign are sent unsigned", problem.problem());
    }
    return new KeyUnavailableException(problem.problem());
  }

  /** A key that cannot be used; the message says which file and why. */
  static final class KeyUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    KeyUnavailableException(String message) {
      super(message);
    }
  }
}
