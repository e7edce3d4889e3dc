package org.postilion.queue.events;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes every event record as one JSON line to {@code events-<UTC date>.jsonl}. */
@Component(
    service = EventListener.class,
    immediate = true,
    configurationPid = "org.postilion.queue.events")
@Designate(ocd = JsonEventLog.Config.class)
public class JsonEventLog implements EventListener {
  private static final Logger LOG = LoggerFactory.getLogger(JsonEventLog.class);

  @ObjectClassDefinition(name = "Postilion event log", description = "JSON lines event records")
  public @interface Config {
    @AttributeDefinition(description = "Folder of the event files; empty means ${karaf.data}/log")
    String path() default "";
  }

  private Path folder;
  private LocalDate openDate;
  private BufferedWriter writer;

  @Activate
  void activate(Config config) throws IOException {
    folder =
        config.path().isBlank()
            ? Path.of(System.getProperty("karaf.data", "data"), "log")
            : Path.of(config.path());
    Files.createDirectories(folder);
  }

  @Deactivate
  synchronized void deactivate() {
    closeWriter();
  }

  @Override
  public synchronized void onEvent(EventRecord record) {
    try {
      LocalDate today = LocalDate.ofInstant(record.timestamp(), ZoneOffset.UTC);
      if (!today.equals(openDate)) {
        closeWriter();
        writer =
            Files.newBufferedWriter(
                folder.resolve("events-" + today + ".jsonl"),
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        openDate = today;
      }
      writer.write(record.toJson());
      writer.write('\n');
      writer.flush();
    } catch (IOException e) {
      LOG.error("Cannot write a {} record to the event log in {}", record.type(), folder, e);
      closeWriter();
    }
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
