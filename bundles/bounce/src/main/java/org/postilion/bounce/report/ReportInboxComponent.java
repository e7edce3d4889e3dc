package org.postilion.bounce.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.bounce.Report;
import org.postilion.api.bounce.ReportInbox;
import org.postilion.api.bounce.ReportReader;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventPublisher;
import org.postilion.api.event.EventRecord;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a report listener's messages go: each is written to {@code incoming/} and synced before the
 * listener answers 250, then read on this inbox's own thread. Its records go on the event bus and
 * the file is removed; a message that is no report moves to {@code unrecognised/} for an operator
 * to look at. The folder is the queue: what a restart or a crash interrupted is read at the next
 * start, so nothing accepted is lost (a report may then give its records twice).
 */
@Component(
    service = ReportInbox.class,
    immediate = true,
    configurationPid = ReportInboxComponent.PID)
@Designate(ocd = ReportInboxComponent.Config.class)
public class ReportInboxComponent implements ReportInbox {
  static final String PID = "org.postilion.bounce.inbox";
  private static final Logger LOG = LoggerFactory.getLogger(ReportInboxComponent.class);

  @ObjectClassDefinition(
      name = "Postilion report inbox",
      description = "Bounces, complaints and auto-replies received by report listeners")
  public @interface Config {
    @AttributeDefinition(description = "Folder of the inbox; empty means ${karaf.data}/reports")
    String folder() default "";
  }

  @Reference ReportReader reader;

  @Reference EventPublisher publisher;

  private final AtomicLong sequence = new AtomicLong();
  private final Semaphore arrived = new Semaphore(0);
  private Path incoming;
  private Path unrecognised;
  private Thread worker;
  private volatile boolean running;

  @Activate
  void activate(Config config, Map<String, Object> properties) throws IOException {
    Path folder =
        ConfigFiles.parseOrReject(
            LOG,
            ConfigFiles.fileName(properties),
            false,
            () ->
                config.folder().isBlank()
                    ? Path.of(System.getProperty("karaf.data", "data"), "reports")
                    : Path.of(config.folder()));
    incoming = Files.createDirectories(folder.resolve("incoming"));
    unrecognised = Files.createDirectories(folder.resolve("unrecognised"));
    running = true;
    worker = new Thread(this::work, "postilion-report-inbox");
    worker.setDaemon(true);
    worker.start();
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    running = false;
    worker.interrupt();
    worker.join(TimeUnit.SECONDS.toMillis(10));
  }

  @Override
  public String receive(Submission submission) throws ReceptionException {
    String id = Long.toString(System.currentTimeMillis(), 36) + "-" + sequence.incrementAndGet();
    Path partial = incoming.resolve(id + ".tmp");
    Path done = incoming.resolve(id + ".eml");
    try {
      try (FileChannel channel =
              FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          OutputStream out = java.nio.channels.Channels.newOutputStream(channel);
          InputStream content = submission.content().open()) {
        out.write(envelope(submission));
        content.transferTo(out);
        out.flush();
        channel.force(true);
      }
      Files.move(partial, done, StandardCopyOption.ATOMIC_MOVE);
      syncFolder(incoming);
    } catch (IOException e) {
      LOG.error("Cannot store a report from {}", submission.peerAddress(), e);
      try {
        Files.deleteIfExists(partial);
      } catch (IOException cleanup) {
        LOG.warn("Cannot remove {}: {}", partial, cleanup.toString());
      }
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot store the report now, try again later"), e);
    }
    arrived.release();
    return id;
  }

  /**
   * What a delivery agent adds to a stored message (RFC 5321 4.4): who the report was sent to, and
   * from where it came, which its records say.
   */
  private static byte[] envelope(Submission submission) {
    StringBuilder fields = new StringBuilder();
    fields.append("Return-Path: <").append(clean(submission.sender())).append(">\r\n");
    for (String recipient : submission.recipients()) {
      fields.append("Delivered-To: ").append(clean(recipient)).append("\r\n");
    }
    fields
        .append(ReportParser.RECEIVED_FROM)
        .append(": ")
        .append(clean(submission.heloName()))
        .append(" [")
        .append(clean(submission.peerAddress()))
        .append("]\r\n");
    return fields.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String clean(String text) {
    return text == null ? "" : text.replaceAll("[\\r\\n]", "");
  }

  private static void syncFolder(Path folder) {
    try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // Some file systems cannot sync a folder; the file itself is synced.
      LOG.debug("Cannot sync {}: {}", folder, e.toString());
    }
  }

  private void work() {
    while (running) {
      try {
        for (Path file : waiting()) {
          if (!running) {
            return;
          }
          process(file);
        }
        // Woken by each arrival, and every ten seconds to pick up what a failed pass left.
        arrived.tryAcquire(10, TimeUnit.SECONDS);
        arrived.drainPermits();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException | RuntimeException e) {
        LOG.error("The report inbox could not read {}; it tries again", incoming, e);
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private List<Path> waiting() throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(incoming, "*.eml")) {
      listing.forEach(files::add);
    }
    files.sort(null);
    return files;
  }

  private void process(Path file) throws IOException {
    Report report;
    try (InputStream in = Files.newInputStream(file)) {
      report = reader.read(in);
    } catch (IOException | RuntimeException e) {
      LOG.error("Cannot read the report {}; it is kept in {}", file.getFileName(), unrecognised, e);
      Files.move(
          file, unrecognised.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      return;
    }
    if (report.records().isEmpty()) {
      Path kept = unrecognised.resolve(file.getFileName());
      Files.move(file, kept, StandardCopyOption.REPLACE_EXISTING);
      LOG.info(
          "Received message {} gave no record ({}); kept as {}",
          file.getFileName(),
          report.note(),
          kept);
      return;
    }
    for (EventRecord record : report.records()) {
      publisher.publish(record);
    }
    Files.delete(file);
    LOG.debug(
        "Report {} read as {} ({} records)",
        file.getFileName(),
        report.kind(),
        report.records().size());
  }
}
