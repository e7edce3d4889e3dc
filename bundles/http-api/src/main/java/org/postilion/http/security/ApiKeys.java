package org.postilion.http.security;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API keys kept as SHA-256 hashes in a properties file, {@code <name> = <sha256 hex>, <tenant>}, so
 * the file gives nothing away. Keys are long random strings, which is why a fast hash is right here
 * where passwords need bcrypt. The file is read again when it changes.
 */
final class ApiKeys {
  private static final Logger LOG = LoggerFactory.getLogger(ApiKeys.class);

  /** Whose key it is, and the tenant its messages get. */
  record Key(String name, String tenant) {}

  private final Path file;
  private FileTime loadedVersion;
  private Map<String, Key> byHash = Map.of();
  private long checkedAt;

  ApiKeys(Path file) {
    this.file = file;
  }

  /** The key's owner; checks the file for changes at most once a second. */
  synchronized Optional<Key> find(String presented) {
    long now = System.nanoTime();
    if (checkedAt == 0 || now - checkedAt > 1_000_000_000L) {
      checkedAt = now;
      reloadIfChanged();
    }
    return Optional.ofNullable(byHash.get(sha256(presented)));
  }

  static String sha256(String key) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private void reloadIfChanged() {
    FileTime version;
    try {
      version = Files.getLastModifiedTime(file);
    } catch (NoSuchFileException e) {
      byHash = Map.of();
      loadedVersion = null;
      return;
    } catch (IOException e) {
      LOG.warn("Cannot read the API keys in {}; keeping the ones loaded", file, e);
      return;
    }
    if (version.equals(loadedVersion)) {
      return;
    }
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      LOG.warn("Cannot read the API keys in {}; keeping the ones loaded", file, e);
      return;
    }
    Map<String, Key> loaded = new HashMap<>();
    for (String name : properties.stringPropertyNames()) {
      String[] parts = properties.getProperty(name).split(",", 2);
      String hash = parts[0].trim().toLowerCase(java.util.Locale.ROOT);
      if (!hash.matches("[0-9a-f]{64}")) {
        LOG.warn("API key '{}' in {} is not a SHA-256 hex digest; ignored", name, file);
        continue;
      }
      String tenant = parts.length > 1 && !parts[1].isBlank() ? parts[1].trim() : null;
      loaded.put(hash, new Key(name, tenant));
    }
    byHash = Map.copyOf(loaded);
    loadedVersion = version;
    LOG.info("{} API keys loaded from {}", loaded.size(), file);
  }
}
