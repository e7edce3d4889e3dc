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
import org.postilion.api.concurrent.DaemonThreads;
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

    @AttributeDefinition(
        description = "Messages waiting to be read beyond which listeners answer 452, try later")
    int max__waiting() default 10_000;

    @AttributeDefinition(
        description = "Percent of the inbox's file system kept free: below it listeners answer 452")
    int min__free__space() default 10;
  }

  /** What the inbox takes before it refuses: reports never fill the spool's disk. */
  record Limits(int maxWaiting, int minFreePercent) {}

  @Reference ReportReader reader;

  @Reference EventPublisher publisher;

  private final AtomicLong sequence = new AtomicLong();
  private final java.util.concurrent.atomic.AtomicInteger waiting =
      new java.util.concurrent.atomic.AtomicInteger();
  private final String instance =
      Long.toString(
          java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
  private Limits limits;
  private final Semaphore arrived = new Semaphore(0);
  private Path incoming;
  private Path unrecognised;
  private Thread worker;
  private volatile boolean running;

  @Activate
  void activate(Config config, Map<String, Object> properties) throws IOException {
    String file = ConfigFiles.fileName(properties);
    Path folder =
        ConfigFiles.parseOrReject(
            LOG,
            file,
            false,
            () ->
                config.folder().isBlank()
                    ? Path.of(System.getProperty("karaf.data", "data"), "reports")
                    : Path.of(config.folder()));
    limits = ConfigFiles.parseOrReject(LOG, file, false, () -> limits(config));
    incoming = Files.createDirectories(folder.resolve("incoming"));
    unrecognised = Files.createDirectories(folder.resolve("unrecognised"));
    recover();
    running = true;
    worker = DaemonThreads.of("postilion-report-inbox", this::work);
    worker.start();
  }

  static Limits limits(Config config) {
    if (config.max__waiting() < 1) {
      throw new IllegalArgumentException(
          "max_waiting must be at least 1: " + config.max__waiting());
    }
    if (config.min__free__space() < 0 || config.min__free__space() > 99) {
      throw new IllegalArgumentException(
          "min_free_space must be a percent from 0 to 99: " + config.min__free__space());
    }
    return new Limits(config.max__waiting(), config.min__free__space());
  }

  /**
   * What a crash or a stop left: half-written files go (their client had no 250), a message being
   * read when it happened is kept aside rather than read again (it may be what stopped the reader),
   * and the waiting ones are counted.
   */
  private void recover() throws IOException {
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(incoming)) {
      for (Path file : listing) {
        String name = file.getFileName().toString();
        if (name.endsWith(".tmp")) {
          Files.delete(file);
        } else if (name.endsWith(".reading")) {
          Path kept = keep(file);
          LOG.warn("Report {} was being read when the inbox stopped; kept as {}", name, kept);
        } else if (name.endsWith(".eml")) {
          waiting.incrementAndGet();
        }
      }
    }
  }

  @Deactivate
  void deactivate() throws InterruptedException {
    running = false;
    worker.interrupt();
    worker.join(TimeUnit.SECONDS.toMillis(30));
    if (worker.isAlive()) {
      LOG.warn("The report inbox is still reading a report; it stops when that is done");
    }
  }

  @Override
  public String receive(Submission submission) throws ReceptionException {
    admit();
    // Unique across restarts and clock steps: a stored report is never overwritten.
    String id =
        Long.toString(System.currentTimeMillis(), 36)
            + "-"
            + instance
            + "-"
            + sequence.incrementAndGet();
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
    waiting.incrementAndGet();
    arrived.release();
    return id;
  }

  private void admit() throws ReceptionException {
    if (waiting.get() >= limits.maxWaiting()) {
      throw new ReceptionException(
          Response.of(452, "4.3.1", "too many reports waiting to be read, try again later"),
          "reports_waiting");
    }
    try {
      java.nio.file.FileStore store = Files.getFileStore(incoming);
      if (store.getUsableSpace() * 100 < store.getTotalSpace() * limits.minFreePercent()) {
        throw new ReceptionException(
            Response.of(452, "4.3.1", "insufficient system storage, try again later"), "no_room");
      }
    } catch (IOException e) {
      LOG.warn("Cannot read the free space of {}: {}", incoming, e.toString());
    }
  }

  /**
   * What a delivery agent adds to a stored message (RFC 5321 4.4): who the report was sent to, and
   * from where it came, which its records say.
   */
  private static byte[] envelope(Submission submission) {
    StringBuilder fields = new StringBuilder();
    // First: a message whose data begins with white space folds into the last field, and the
    // client's address must not be what it can extend.
    fields
        .append(ReportParser.RECEIVED_FROM)
        .append(": ")
        .append(clean(submission.heloName()))
        .append(" [")
        .append(clean(submission.peerAddress()))
        .append("]\r\n");
    fields.append("Return-Path: <").append(clean(submission.sender())).append(">\r\n");
    for (String recipient : submission.recipients()) {
      fields.append("Delivered-To: ").append(clean(recipient)).append("\r\n");
    }
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
    // Marked while it is read: if reading it stops the server, it is not read again at restart.
    Path reading = file.resolveSibling(file.getFileName() + ".reading");
    Files.move(file, reading, StandardCopyOption.ATOMIC_MOVE);
    waiting.decrementAndGet();
    Report report;
    // Not interruptible, unlike Files.newInputStream: a stop must not spoil a good report.
    try (InputStream in = new java.io.FileInputStream(reading.toFile())) {
      report = reader.read(in);
    } catch (IOException e) {
      // The disk, not the message: read it again later.
      LOG.warn("Cannot read the report {} now: {}", file.getFileName(), e.toString());
      Files.move(reading, file, StandardCopyOption.ATOMIC_MOVE);
      waiting.incrementAndGet();
      return;
    } catch (RuntimeException | StackOverflowError e) {
      Path kept = keep(reading);
      LOG.error("Cannot read the report {}; it is kept as {}", file.getFileName(), kept, e);
      return;
    }
    if (report.records().isEmpty()) {
      Path kept = keep(reading);
      LOG.info(
          "Received message {} gave no record ({}); kept as {}",
          file.getFileName(),
          report.note(),
          kept);
      return;
    }
    try {
      for (EventRecord record : report.records()) {
        publisher.publish(record);
      }
    } catch (RuntimeException e) {
      Path kept = keep(reading);
      LOG.error("Records of report {} could not all be published; kept as {}", file, kept, e);
      return;
    }
    Files.delete(reading);
    LOG.debug(
        "Report {} read as {} ({} records)",
        file.getFileName(),
        report.kind(),
        report.records().size());
  }

  /** Moves a message to unrecognised/, under its own name, never over another. */
  private Path keep(Path file) throws IOException {
    String name = file.getFileName().toString().replaceAll("\\.(reading|eml)$", "");
    Path kept = unrecognised.resolve(name + ".eml");
    for (int n = 1; Files.exists(kept); n++) {
      kept = unrecognised.resolve(name + "-" + n + ".eml");
    }
    Files.move(file, kept);
    return kept;
  }
}
