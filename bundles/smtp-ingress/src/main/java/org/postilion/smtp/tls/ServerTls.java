package org.postilion.smtp.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.james.protocols.netty.Encryption;
import org.postilion.support.tls.PemCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's TLS context, replaced when its PEM files change. The files are polled off the
 * network threads; a connection only reads the current context, so a handshake never waits for a
 * disk. A changed file that cannot be used is logged and the previous context stays in force.
 */
public final class ServerTls implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);
  private static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(365);

  /** Renew a self-signed certificate this long before it expires. */
  private static final Duration RENEW_BEFORE = Duration.ofDays(7);

  private final TlsSettings settings;
  private final String listener;
  private final Path certificateFile;
  private final Path keyFile;
  private final String[] protocols;
  private final String[] ciphers;
  private volatile Loaded current;

  /** Changed files that could not be used, and why; null while none are refused. */
  private volatile Refused refused;

  private ScheduledFuture<?> poller;

  private record Loaded(String stamp, SSLContext context, String subject, Instant notAfter) {}

  private record Refused(String stamp, String why) {}

  /**
   * Loads the credentials (making a self-signed pair first when none are configured).
   *
   * @throws IOException naming the file and the problem when the listener cannot use TLS
   */
  public ServerTls(String listener, TlsSettings settings) throws IOException {
    this.settings = settings;
    this.listener = listener;
    if (settings.selfSigned()) {
      String base = "self-signed-" + settings.hostName().replaceAll("[^A-Za-z0-9.-]", "_");
      certificateFile = settings.selfSignedFolder().resolve(base + ".crt");
      keyFile = settings.selfSignedFolder().resolve(base + ".key");
    } else {
      certificateFile = settings.certificate();
      keyFile = settings.privateKey();
    }
    protocols = settings.protocols().toArray(new String[0]);
    ciphers = settings.ciphers().isEmpty() ? null : settings.ciphers().toArray(new String[0]);
    if (settings.selfSigned() && needsNewSelfSigned()) {
      makeSelfSigned();
    }
    current = load(stamp());
  }

  /** Checks the files every {@code interval} from now on. */
  public void watch(ScheduledExecutorService scheduler, Duration interval) {
    poller =
        scheduler.scheduleWithFixedDelay(
            this::reloadIfChanged, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** What a new connection encrypts with: STARTTLS or implicit, as configured; null when off. */
  public Encryption encryption() {
    SSLContext context = current.context();
    return settings.mode() == TlsSettings.Mode.IMPLICIT
        ? Encryption.createTls(context, ciphers, protocols, null)
        : Encryption.createStartTls(context, ciphers, protocols, null);
  }

  public TlsSettings.Mode mode() {
    return settings.mode();
  }

  /**
   * For operators: the mode, the certificate in use and until when it is valid, and, when the files
   * were changed to something that could not be used, why they were refused.
   */
  public String describe() {
    Loaded loaded = current;
    String text =
        settings.mode().cfgName() + " " + loaded.subject() + " until " + loaded.notAfter();
    Refused now = refused;
    return now == null ? text : text + "; changed files refused: " + now.why();
  }

  void reloadIfChanged() {
    try {
      if (settings.selfSigned() && needsNewSelfSigned()) {
        makeSelfSigned();
      }
      String stamp = stamp();
      if (stamp.equals(current.stamp())) {
        // The files in use are back (a move keeps their times): nothing is refused any more.
        refused = null;
        return;
      }
      Refused before = refused;
      if (before != null && stamp.equals(before.stamp())) {
        return;
      }
      Loaded loaded = load(stamp);
      refused = null;
      current = loaded;
      LOG.info("SMTP listener {}: TLS certificate reloaded from {}", listener, certificateFile);
    } catch (IOException | RuntimeException e) {
      String failed = safeStamp();
      Refused before = refused;
      if (before == null || !failed.equals(before.stamp())) {
        refused = new Refused(failed, Objects.toString(e.getMessage(), e.toString()));
        LOG.error(
            "SMTP listener {}: TLS certificate not reloaded, the previous one stays in use: {}",
            listener,
            e.getMessage());
      }
    }
  }

  private Loaded load(String stamp) throws IOException {
    PemCredentials credentials = PemCredentials.read(certificateFile, keyFile);
    try {
      SSLContext context = credentials.serverContext();
      checkCiphers(context);
      X509Certificate leaf = credentials.chain().get(0);
      return new Loaded(
          stamp, context, leaf.getSubjectX500Principal().getName(), leaf.getNotAfter().toInstant());
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use " + certificateFile + ": " + e.getMessage(), e);
    }
  }

  private void checkCiphers(SSLContext context) throws IOException {
    if (ciphers == null) {
      return;
    }
    Set<String> supported =
        new HashSet<>(Arrays.asList(context.getSupportedSSLParameters().getCipherSuites()));
    List<String> unknown = Arrays.stream(ciphers).filter(c -> !supported.contains(c)).toList();
    if (!unknown.isEmpty()) {
      throw new IOException("tls.ciphers names suites this JVM does not have: " + unknown);
    }
  }

  private boolean needsNewSelfSigned() {
    if (!Files.isRegularFile(certificateFile) || !Files.isRegularFile(keyFile)) {
      return true;
    }
    Loaded loaded = current;
    return loaded != null && loaded.notAfter().minus(RENEW_BEFORE).isBefore(Instant.now());
  }

  private void makeSelfSigned() throws IOException {
    try {
      PemCredentials.writeSelfSigned(
          certificateFile, keyFile, settings.hostName(), SELF_SIGNED_VALIDITY);
      LOG.info(
          "SMTP listener {}: made a self-signed certificate for {} in {}; set tls.certificate"
              + " and tls.private_key to use a real one",
          listener,
          settings.hostName(),
          certificateFile);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot make a self-signed certificate: " + e.getMessage(), e);
    }
  }

  /** Changes whenever either file is replaced or rewritten. */
  private String stamp() throws IOException {
    return Files.getLastModifiedTime(certificateFile).toMillis()
        + ":"
        + Files.size(certificateFile)
        + ":"
        + Files.getLastModifiedTime(keyFile).toMillis()
        + ":"
        + Files.size(keyFile);
  }

  private String safeStamp() {
    try {
      return stamp();
    } catch (IOException e) {
      return "missing";
    }
  }

  @Override
  public void close() {
    if (poller != null) {
      poller.cancel(false);
    }
  }
}
