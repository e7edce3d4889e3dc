package org.postilion.delivery.maildir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers into maildirs: each message is written under {@code tmp/}, synced, then renamed into
 * {@code new/}, so a reader never sees a partial file and a crash never loses an acknowledged one.
 * The folder comes from the queue configuration's {@code maildir.path}, a template with {@code
 * {domain}}, {@code {user}}, {@code {tenant}} and {@code {campaign}}.
 */
@Component(
    service = DeliveryProtocol.class,
    property = DeliveryProtocol.PROTOCOL + "=" + MaildirProtocol.NAME,
    configurationPid = "org.postilion.delivery.maildir")
@Designate(ocd = MaildirProtocol.Config.class)
public class MaildirProtocol implements DeliveryProtocol {
  static final String NAME = "maildir";
  static final String PATH_KEY = "maildir.path";

  /** The {@code maildir.*} key of a queue file, checked by the queue manager when it is written. */
  static final List<ProtocolKey> KEYS =
      List.of(
          new ProtocolKey(
              PATH_KEY,
              "path template",
              "",
              "folder of each recipient's maildir (required): an absolute path with {domain},"
                  + " {user}, {tenant}, {campaign}",
              MaildirPath::root));

  private static final Logger LOG = LoggerFactory.getLogger(MaildirProtocol.class);

  @ObjectClassDefinition(name = "Postilion maildir delivery", description = "protocol=maildir")
  public @interface Config {
    @AttributeDefinition(
        description = "Sync each file and folder to disk before reporting delivery (fsync)")
    boolean fsync() default true;
  }

  private final AtomicLong sequence = new AtomicLong();
  private final String host = hostName();
  private final long pid = ProcessHandle.current().pid();
  private final TmpSweeper sweeper = new TmpSweeper(host, pid);
  private boolean fsync = true;

  @Activate
  void activate(Config config) {
    fsync = config.fsync();
  }

  /** As KumoMTA names it in records' {@code delivery_protocol}. */
  @Override
  public String recordName() {
    return "Maildir";
  }

  @Override
  public List<ProtocolKey> keys() {
    return KEYS;
  }

  /**
   * The site is the template's fixed root, so that all mailboxes under one folder share a ready
   * queue and its limits (connection_limit bounds the writers, not the mailboxes).
   */
  @Override
  public CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source) {
    String template = config.property(PATH_KEY);
    if (template == null || template.isBlank()) {
      return CompletableFuture.failedFuture(
          new DeliveryException(
              Response.of(
                  451,
                  "4.3.5",
                  PATH_KEY + " is not set in queue configuration " + config.source())));
    }
    try {
      return CompletableFuture.completedFuture(Site.named(MaildirPath.root(template).toString()));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new DeliveryException(
              Response.of(
                  451, "4.3.5", e.getMessage() + " in queue configuration " + config.source())));
    }
  }

  /** Nothing to connect to: a session writes files, each under its recipient's path. */
  @Override
  public DeliverySession open(Site site, EgressSource source) {
    return new DeliverySession() {
      @Override
      public DeliveryResult deliver(DeliveryRequest request) {
        return write(request);
      }

      @Override
      public void close() {}
    };
  }

  DeliveryResult write(DeliveryRequest request) {
    String template = request.config().property(PATH_KEY);
    if (template == null || template.isBlank()) {
      return DeliveryResult.missingKey(request, PATH_KEY);
    }
    try {
      MaildirPath.root(template);
    } catch (IllegalArgumentException e) {
      return DeliveryResult.forAll(
          request,
          Disposition.TRANSIENT_FAILURE,
          Response.of(
              451,
              "4.3.5",
              e.getMessage() + " in queue configuration " + request.config().source()),
          null);
    }
    List<RecipientResult> results = new ArrayList<>();
    String lastFolder = null;
    for (String recipient : request.recipients()) {
      Path folder;
      try {
        folder = MaildirPath.expand(template, recipient, request.queue());
      } catch (IllegalArgumentException e) {
        results.add(
            new RecipientResult(
                recipient,
                Disposition.PERMANENT_FAILURE,
                Response.of(550, "5.1.3", e.getMessage())));
        continue;
      }
      lastFolder = folder.toString();
      results.add(writeOne(request, recipient, folder));
    }
    return new DeliveryResult(
        results, lastFolder == null ? null : new PeerAddress(lastFolder, null));
  }

  private RecipientResult writeOne(DeliveryRequest request, String recipient, Path folder) {
    Path tmp = folder.resolve("tmp");
    Path newDir = folder.resolve("new");
    String name = uniqueName();
    Path tmpFile = tmp.resolve(name);
    try {
      Files.createDirectories(tmp);
      Files.createDirectories(newDir);
      Files.createDirectories(folder.resolve("cur"));
      sweeper.sweepOnce(tmp);
      try (FileChannel channel =
              FileChannel.open(tmpFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
          InputStream in = request.content().open()) {
        OutputStream out = Channels.newOutputStream(channel);
        in.transferTo(out);
        out.flush();
        if (fsync) {
          channel.force(true);
        }
      }
      Path target = newDir.resolve(name);
      Files.move(tmpFile, target, StandardCopyOption.ATOMIC_MOVE);
      if (fsync) {
        syncFolder(newDir);
      }
      return new RecipientResult(
          recipient, Disposition.DELIVERED, Response.of(250, "2.0.0", "delivered to " + target));
    } catch (IOException e) {
      deleteQuietly(tmpFile);
      LOG.warn(
          "Maildir delivery of {} to {} failed: {}", request.messageId(), folder, e.toString());
      return new RecipientResult(
          recipient,
          Disposition.TRANSIENT_FAILURE,
          Response.of(451, "4.3.0", "cannot write to maildir " + folder + ": " + e));
    }
  }

  /** A rename is durable only once its folder's entry is on disk. */
  private static void syncFolder(Path folder) throws IOException {
    try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  /** The maildir convention: time, then what makes it unique on this host, then the host. */
  private String uniqueName() {
    long now = System.currentTimeMillis();
    return (now / 1000)
        + ".M"
        + (now % 1000) * 1000
        + "P"
        + pid
        + "Q"
        + sequence.incrementAndGet()
        + "."
        + host;
  }

  private static void deleteQuietly(Path file) {
    try {
      if (Files.exists(file)) {
        Files.delete(file);
      }
    } catch (IOException e) {
      LOG.warn("Cannot remove the partial maildir file {}: {}", file, e.toString());
    }
  }

  private static String hostName() {
    String name;
    try {
      name = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      name = ManagementFactory.getRuntimeMXBean().getName();
    }
    // '/' and ':' are not allowed in maildir file names (the latter separates the info part).
    return name.replace("/", "\\057").replace(":", "\\072");
  }
}
