package org.postilion.api.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeIdTest {
  @TempDir Path folder;

  @Test
  void isMadeOnceAndKeptInTheDataFolder() throws Exception {
    String first = NodeId.in(folder.resolve("data"));
    UUID.fromString(first);
    assertEquals(first, NodeId.in(folder.resolve("data")));
    assertEquals(first, Files.readString(folder.resolve("data").resolve("node-id")).trim());
    assertNotEquals(first, NodeId.in(folder.resolve("other")));
  }

  @Test
  void aDamagedFileIsReportedNotReplaced() throws Exception {
    Files.writeString(folder.resolve("node-id"), "not a uuid\n");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> NodeId.in(folder));
    assertTrue(e.getMessage().contains("node-id"), e.getMessage());
    assertEquals("not a uuid\n", Files.readString(folder.resolve("node-id")));
  }
}
