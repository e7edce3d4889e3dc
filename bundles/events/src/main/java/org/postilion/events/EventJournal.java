package org.postilion.events;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * An on-disk queue of JSON lines for one event sink: every record is appended before anything is
 * sent, so records survive an endpoint that is down for days and a restart of the server. Files
 * {@code <sequence>.jsonl} are appended to in turn; a cursor file names the file and byte offset of
 * the first record not yet acknowledged; files behind the cursor are deleted.
 */
final class EventJournal implements AutoCloseable {
  private static final long SEGMENT_BYTES = 16L * 1024 * 1024;

  private final Path folder;
  private final Path cursorFile;
  private long writeSegment;
  private long writeBytes;
  private BufferedWriter writer;
  private long readSegment;
  private long readOffset;

  /** A batch read from the journal, and where the journal stands once it is acknowledged. */
  record Batch(List<String> records, long segment, long offset) {}

  EventJournal(Path folder) throws IOException {
    this.folder = folder;
    this.cursorFile = folder.resolve("cursor");
    Files.createDirectories(folder);
    TreeSet<Long> segments = segments();
    writeSegment = segments.isEmpty() ? 1 : segments.last();
    writeBytes = Files.exists(segment(writeSegment)) ? Files.size(segment(writeSegment)) : 0;
    if (Files.exists(cursorFile)) {
      String[] cursor = Files.readString(cursorFile, StandardCharsets.US_ASCII).trim().split(" ");
      readSegment = Long.parseLong(cursor[0]);
      readOffset = Long.parseLong(cursor[1]);
    } else {
      readSegment = segments.isEmpty() ? 1 : segments.first();
      readOffset = 0;
    }
  }

  private Path segment(long sequence) {
    return folder.resolve(String.format("%020d.jsonl", sequence));
  }

  private TreeSet<Long> segments() throws IOException {
    TreeSet<Long> sequences = new TreeSet<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.jsonl")) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        sequences.add(Long.parseLong(name.substring(0, name.length() - ".jsonl".length())));
      }
    }
    return sequences;
  }

  /** Appends one record; it reaches the operating system before this returns. */
  synchronized void append(String json) throws IOException {
    if (writer == null || writeBytes >= SEGMENT_BYTES) {
      if (writer != null) {
        writer.close();
        writeSegment++;
        writeBytes = 0;
      }
      writer =
          Files.newBufferedWriter(
              segment(writeSegment),
              StandardCharsets.UTF_8,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
    }
    writer.write(json);
    writer.write('\n');
    writer.flush();
    writeBytes += json.getBytes(StandardCharsets.UTF_8).length + 1;
  }

  /** Up to {@code max} records after the cursor; empty when all were acknowledged. */
  Batch read(int max) throws IOException {
    long segment = readSegment;
    long offset = readOffset;
    List<String> records = new ArrayList<>();
    while (records.size() < max) {
      Path file = segment(segment);
      long lastWritten;
      synchronized (this) {
        lastWritten = writeSegment;
      }
      if (!Files.exists(file)) {
        if (segment >= lastWritten) {
          break;
        }
        segment++;
        offset = 0;
        continue;
      }
      offset = readLines(file, offset, max - records.size(), records);
      if (records.size() < max) {
        if (segment >= lastWritten) {
          break;
        }
        segment++;
        offset = 0;
      }
    }
    return new Batch(records, segment, offset);
  }

  /** Reads whole lines from {@code offset}; a line still being written is left for later. */
  private static long readLines(Path file, long offset, int max, List<String> into)
      throws IOException {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      if (offset >= length) {
        return offset;
      }
      byte[] bytes = new byte[(int) Math.min(length - offset, 8L * 1024 * 1024)];
      in.seek(offset);
      in.readFully(bytes);
      int start = 0;
      for (int i = 0; i < bytes.length && into.size() < max; i++) {
        if (bytes[i] == '\n') {
          into.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
          start = i + 1;
        }
      }
      return offset + start;
    }
  }

  /** The batch was delivered: moves the cursor past it and deletes the files it finished. */
  void acknowledge(Batch batch) throws IOException {
    Path tmp = folder.resolve("cursor.tmp");
    Files.writeString(
        tmp, batch.segment() + " " + batch.offset() + "\n", StandardCharsets.US_ASCII);
    Files.move(
        tmp, cursorFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    for (long sequence = readSegment; sequence < batch.segment(); sequence++) {
      Files.deleteIfExists(segment(sequence));
    }
    readSegment = batch.segment();
    readOffset = batch.offset();
  }

  @Override
  public synchronized void close() throws IOException {
    if (writer != null) {
      writer.close();
      writer = null;
    }
  }
}
