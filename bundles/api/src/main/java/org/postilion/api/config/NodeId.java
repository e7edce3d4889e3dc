package org.postilion.api.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * This node's id, KumoMTA's {@code nodeid}: a UUID made on the first start and kept in the data
 * folder ({@code node-id}), so that records name the node independently of its addresses and across
 * restarts.
 */
public final class NodeId {
  static final String FILE = "node-id";

  private NodeId() {}

  /** The id kept in {@code dataFolder}, made and written there first when there is none. */
  public static synchronized String in(Path dataFolder) {
    Path file = dataFolder.resolve(FILE);
    try {
      String kept =
          Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.US_ASCII).trim() : "";
      // An empty file is a first start cut short before the id reached the disk.
      if (!kept.isEmpty()) {
        try {
          return UUID.fromString(kept).toString();
        } catch (IllegalArgumentException e) {
          throw new IllegalStateException(
              file + " holds no UUID; delete it to have a new node id made: " + kept, e);
        }
      }
      String made = UUID.randomUUID().toString();
      Files.createDirectories(dataFolder);
      Path temporary = Files.createTempFile(dataFolder, FILE, ".tmp");
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap((made + "\n").getBytes(StandardCharsets.US_ASCII)));
        channel.force(true);
      }
      Files.move(
          temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return made;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read or write the node id in " + file, e);
    }
  }
}
