package org.postilion.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.testkit.EventRecords;

class JsonEventLogTest {
  @TempDir Path folder;

  private JsonEventLog log(long maxSize) throws IOException {
    JsonEventLog log = new JsonEventLog();
    log.activate(
        new JsonEventLog.Config() {
          @Override
          public Class<? extends Annotation> annotationType() {
            return JsonEventLog.Config.class;
          }

          @Override
          public String path() {
            return folder.toString();
          }

          @Override
          public long max__file__size() {
            return maxSize;
          }
        });
    return log;
  }

  private static EventRecord record(Instant at, String recipient) {
    return EventRecords.of(EventType.DELIVERY, recipient, at).id("id").build();
  }

  private List<String> files() throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  private static String gunzip(Path file) throws IOException {
    try (var in = new GZIPInputStream(Files.newInputStream(file))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void rollsOverBySizeAndByDayAndCompressesClosedFiles() throws Exception {
    JsonEventLog log = log(1024);
    Instant day1 = Instant.parse("2026-11-23T10:00:00Z");
    for (int i = 0; i < 12; i++) {
      log.onEvent(record(day1, "r" + i + "@example.net"));
    }
    log.onEvent(record(Instant.parse("2026-11-24T00:00:01Z"), "next@example.net"));
    log.deactivate();
    List<String> files = files();
    assertTrue(files.contains("events-2026-11-23.1.jsonl.gz"), files.toString());
    assertTrue(files.contains("events-2026-11-24.jsonl"), files.toString());
    assertTrue(
        files.stream().noneMatch(f -> f.startsWith("events-2026-11-23") && f.endsWith(".jsonl")),
        files.toString());
    StringBuilder day1Records = new StringBuilder();
    for (String file : files) {
      if (file.startsWith("events-2026-11-23")) {
        day1Records.append(gunzip(folder.resolve(file)));
      }
    }
    for (int i = 0; i < 12; i++) {
      assertTrue(day1Records.toString().contains("\"recipient\":\"r" + i + "@example.net\""));
    }
    assertEquals(12, day1Records.toString().lines().count());
    assertTrue(
        Files.readString(folder.resolve("events-2026-11-24.jsonl")).contains("next@example.net"));
  }
}
