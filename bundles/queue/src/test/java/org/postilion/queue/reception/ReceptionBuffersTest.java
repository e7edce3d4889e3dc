package org.postilion.queue.reception;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.NoRoomException;
import org.postilion.api.reception.ReceptionException;

class ReceptionBuffersTest {
  private static final int KIB = 1024;
  @TempDir Path folder;

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static byte[] read(MessageContent content) throws Exception {
    try (InputStream in = content.open()) {
      return in.readAllBytes();
    }
  }

  private long files() throws Exception {
    try (Stream<Path> list = Files.list(folder)) {
      return list.count();
    }
  }

  @Test
  void aSmallMessageStaysInMemory() throws Exception {
    ReceptionBuffers buffers = ReceptionBuffers.of(folder, 256 * KIB, 1024 * KIB, 0, 0);
    byte[] message = random(5000, 1);
    try (ContentBuffer buffer = buffers.buffer()) {
      buffer.output().write(message);
      assertArrayEquals(message, read(buffer));
      assertFalse(((SpillBuffer) buffer).spilled());
      assertEquals(0, files());
      assertTrue(buffers.memoryInUse() >= 5000);
    }
    assertEquals(0, buffers.memoryInUse());
  }

  @Test
  void aLargeMessageGoesToDiskAndIsReadBackWholeAndFromAnOffset() throws Exception {
    ReceptionBuffers buffers = ReceptionBuffers.of(folder, 64 * KIB, 1024 * KIB, Long.MAX_VALUE, 0);
    byte[] message = random(3_000_000, 2);
    ContentBuffer buffer = buffers.buffer();
    for (int pos = 0; pos < message.length; pos += 7919) {
      buffer.output().write(message, pos, Math.min(7919, message.length - pos));
    }
    assertEquals(message.length, buffer.size());
    assertTrue(((SpillBuffer) buffer).spilled());
    assertTrue(buffers.memoryInUse() <= 64 * KIB);
    assertEquals(message.length - buffers.memoryInUse(), buffers.diskInUse());
    assertArrayEquals(message, read(buffer));
    assertArrayEquals(message, read(buffer), "read twice");
    byte[] tail = read(MessageContent.from(buffer, 100_000));
    assertEquals(message.length - 100_000, tail.length);
    assertEquals(message[100_000], tail[0]);
    buffer.close();
    assertEquals(0, files(), "the file goes with the buffer");
    assertEquals(0, buffers.memoryInUse());
    assertEquals(0, buffers.diskInUse());
  }

  @Test
  void whenTheMemoryBudgetIsSpentMessagesGoStraightToDisk() throws Exception {
    ReceptionBuffers buffers = ReceptionBuffers.of(folder, 64 * KIB, 100 * KIB, Long.MAX_VALUE, 0);
    ContentBuffer first = buffers.buffer();
    first.output().write(random(64 * KIB, 3));
    ContentBuffer second = buffers.buffer();
    byte[] message = random(80 * KIB, 4);
    second.output().write(message);
    assertTrue(buffers.memoryInUse() <= 100 * KIB);
    assertTrue(((SpillBuffer) second).spilled());
    assertArrayEquals(message, read(second));
    first.close();
    second.close();
    assertEquals(0, buffers.memoryInUse());
  }

  @Test
  void whenTheDiskBudgetIsSpentWritesAndNewBuffersAreRefused() throws Exception {
    ReceptionBuffers buffers = ReceptionBuffers.of(folder, 8 * KIB, 1024 * KIB, 100 * KIB, 0);
    ContentBuffer buffer = buffers.buffer();
    assertThrows(NoRoomException.class, () -> buffer.output().write(random(200 * KIB, 5)));
    ContentBuffer full = buffers.buffer();
    full.output().write(random(8 * KIB, 6));
    full.output().write(random(100 * KIB, 7));
    ReceptionException refused = assertThrows(ReceptionException.class, buffers::buffer);
    assertEquals("451 4.3.1", refused.response().code() + " " + refused.response().enhancedCode());
    buffer.close();
    full.close();
    buffers.buffer().close();
  }

  @Test
  void leftoversOfACrashAreRemovedAtStart() throws Exception {
    Files.writeString(folder.resolve("incoming-7-abc.tmp"), "never acknowledged");
    Files.writeString(folder.resolve("other-file"), "not ours");
    ReceptionBuffers buffers = new ReceptionBuffers();
    buffers.activate(
        org.postilion.testkit.TypedConfig.of(
            ReceptionBuffers.Config.class, java.util.Map.of("directory", folder.toString())));
    assertFalse(Files.exists(folder.resolve("incoming-7-abc.tmp")));
    assertTrue(Files.exists(folder.resolve("other-file")));
  }
}
