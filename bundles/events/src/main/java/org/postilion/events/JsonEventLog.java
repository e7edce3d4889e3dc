package org.postilion.events;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every event record as one JSON line to {@code events-<UTC date>.jsonl}. A file is closed
 * at midnight UTC or when it reaches {@code max_file_size}, becoming {@code
 * events-<date>.<n>.jsonl}, and is then compressed to {@code .jsonl.gz} by a thread of its own.
 */
@Component(
    service = EventListener.class,
    immediate = true,
    // Durable: records made while this bundle is stopped are written when it returns.
    property = EventListener.SUBSCRIBER + "=event-log",
    configurationPid = "org.postilion.events")
@Designate(ocd = JsonEventLog.Config.class)
public class JsonEventLog implements EventListener {
  private static final Logger LOG = LoggerFactory.getLogger(JsonEventLog.class);

  @ObjectClassDefinition(name = "Postilion event log", description = "JSON lines event records")
  public @interface Config {
    @AttributeDefinition(description = "Folder of the event files; empty means ${karaf.data}/log")
    String path() default "";

    @AttributeDefinition(description = "Size in bytes at which a file is closed and compressed")
    long max__file__size() default 256L * 1024 * 1024;
  }

  private Path folder;
  private long maxFileSize;
  private LocalDate openDate;
  private long openBytes;
  private BufferedWriter writer;
  private ExecutorService compressor;

  @Activate
  void activate(Config config) throws IOException {
    folder =
        config.path().isBlank()
            ? Path.of(System.getProperty("karaf.data", "data"), "log")
            : Path.of(config.path());
    maxFileSize = Math.max(1024, config.max__file__size());
    Files.createDirectories(folder);
    compressor =
        Executors.newSingleThreadExecutor(DaemonThreads.named("postilion-event-log-compressor"));
    // Files closed before a crash or a restart on another day.
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "events-*.jsonl")) {
      for (Path file : files) {
        if (!file.getFileName().toString().equals(activeName(today))) {
          compressLater(file);
        }
      }
    }
  }

  @Deactivate
  synchronized void deactivate() throws InterruptedException {
    closeWriter();
    compressor.shutdown();
    if (!compressor.awaitTermination(30, TimeUnit.SECONDS)) {
      LOG.warn("Event log files are still being compressed; they will be at the next start");
    }
  }

  private static String activeName(LocalDate date) {
    return "events-" + date + ".jsonl";
  }

  @Override
  public synchronized void onEvent(EventRecord record) {
    try {
      LocalDate day = LocalDate.ofInstant(record.timestamp(), ZoneOffset.UTC);
      if (writer != null && (!day.equals(openDate) || openBytes >= maxFileSize)) {
        rollOver();
      }
      if (writer == null) {
        Path file = folder.resolve(activeName(day));
        writer =
            Files.newBufferedWriter(
                file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        openDate = day;
        openBytes = Files.size(file);
      }
      String line = record.toJson();
      writer.write(line);
      writer.write('\n');
      writer.flush();
      openBytes += line.length() + 1;
    } catch (IOException e) {
      LOG.error("Cannot write a {} record to the event log in {}", record.type(), folder, e);
      closeWriter();
    }
  }

  /** Closes the active file under a numbered name and hands it to the compressor. */
  private void rollOver() throws IOException {
    LocalDate date = openDate;
    closeWriter();
    Path active = folder.resolve(activeName(date));
    int part = 1;
    while (Files.exists(folder.resolve("events-" + date + "." + part + ".jsonl"))
        || Files.exists(folder.resolve("events-" + date + "." + part + ".jsonl.gz"))) {
      part++;
    }
    Path closed = folder.resolve("events-" + date + "." + part + ".jsonl");
    Files.move(active, closed, StandardCopyOption.ATOMIC_MOVE);
    compressLater(closed);
  }

  private void compressLater(Path file) {
    compressor.execute(
        () -> {
          Path gz = file.resolveSibling(file.getFileName() + ".gz");
          Path tmp = file.resolveSibling(file.getFileName() + ".gz.tmp");
          try (InputStream in = Files.newInputStream(file);
              OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp))) {
            in.transferTo(out);
          } catch (IOException e) {
            LOG.warn("Cannot compress the event log {}; it stays as it is", file, e);
            return;
          }
          try {
            Files.move(tmp, gz, StandardCopyOption.ATOMIC_MOVE);
            Files.delete(file);
          } catch (IOException e) {
            LOG.warn("Cannot replace the event log {} by {}", file, gz, e);
          }
        });
  }

  private void closeWriter() {
    if (writer != null) {
      try {
        writer.close();
      } catch (IOException e) {
        LOG.warn("Closing the event log failed", e);
      }
      writer = null;
      openDate = null;
    }
  }
}
