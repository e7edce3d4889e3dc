package org.postilion.http.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.support.tls.PemCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTPS for the HTTP API from a PEM certificate chain and key. Pax Web only reads Java key stores,
 * so the pair is converted into a PKCS#12 file under {@code ${karaf.data}/http-tls/} and Pax Web's
 * configuration is pointed at it; Pax Web then restarts its connectors by itself. The files are
 * checked every 5 seconds, so a renewed certificate is served without a restart, and a pair that
 * does not load leaves the one in force.
 */
@Component(immediate = true, configurationPid = "org.postilion.http.tls")
@Designate(ocd = HttpsFromPem.Config.class)
public class HttpsFromPem {
  private static final Logger LOG = LoggerFactory.getLogger(HttpsFromPem.class);
  static final String PAX_WEB_PID = "org.ops4j.pax.web";
  private static final String ALIAS = "postilion";
  private static final long POLL_SECONDS = 5;

  @ObjectClassDefinition(name = "Postilion HTTPS", description = "HTTPS from PEM files")
  public @interface Config {
    @AttributeDefinition(description = "PEM certificate chain; empty: no HTTPS")
    String tls_certificate() default "";

    @AttributeDefinition(description = "PEM private key (PKCS#1, SEC1 or PKCS#8)")
    String tls_private__key() default "";

    @AttributeDefinition(description = "HTTPS port")
    int tls_port() default 8443;

    @AttributeDefinition(description = "Keep plain HTTP on next to HTTPS")
    boolean plain__http() default true;
  }

  @Reference private ConfigurationAdmin configurationAdmin;

  private final Path storeDirectory = Path.of(System.getProperty("karaf.data", "data"), "http-tls");
  private ScheduledExecutorService poller;
  private Config config;
  private List<FileTime> seenVersions;
  private String appliedFingerprint;

  @Activate
  @Modified
  synchronized void configure(Config config) {
    this.config = config;
    seenVersions = null;
    appliedFingerprint = null;
    if (config.tls_certificate().isBlank() || config.tls_private__key().isBlank()) {
      disableHttps();
      stopPolling();
      return;
    }
    refresh();
    if (poller == null) {
      poller =
          Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("postilion-https-pem"));
      poller.scheduleWithFixedDelay(this::refresh, POLL_SECONDS, POLL_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Deactivate
  synchronized void deactivate() {
    stopPolling();
  }

  private void stopPolling() {
    if (poller != null) {
      poller.shutdownNow();
      poller = null;
    }
  }

  /** Loads the files again when they changed; keeps what is in force when they do not load. */
  synchronized void refresh() {
    Path certificate = Path.of(config.tls_certificate());
    Path key = Path.of(config.tls_private__key());
    List<FileTime> versions;
    try {
      versions = List.of(Files.getLastModifiedTime(certificate), Files.getLastModifiedTime(key));
    } catch (IOException e) {
      warnOnce(List.of(), "HTTPS certificate or key cannot be read; keeping what is in force", e);
      return;
    }
    if (versions.equals(seenVersions)) {
      return;
    }
    seenVersions = versions;
    try {
      PemCredentials credentials = PemCredentials.read(certificate, key);
      String fingerprint = fingerprint(credentials);
      if (fingerprint.equals(appliedFingerprint) && sameSettingsInForce(fingerprint)) {
        return;
      }
      char[] password = randomPassword();
      Path store = writeStore(credentials, fingerprint, password);
      pointPaxWebAt(store, password);
      appliedFingerprint = fingerprint;
      removeOtherStores(store);
      LOG.info(
          "HTTPS on port {} with {} (subject {})",
          config.tls_port(),
          certificate,
          credentials.chain().get(0).getSubjectX500Principal().getName());
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      warnOnce(
          versions,
          "HTTPS certificate "
              + certificate
              + " and key "
              + key
              + " do not load; keeping what is"
              + " in force",
          e);
    }
  }

  private List<FileTime> warned;

  private void warnOnce(List<FileTime> versions, String message, Exception e) {
    if (!versions.equals(warned)) {
      LOG.warn(message, e);
      warned = versions;
    }
  }

  private static String fingerprint(PemCredentials credentials) throws GeneralSecurityException {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    digest.update(credentials.chain().get(0).getEncoded());
    digest.update(credentials.key().getEncoded());
    return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
  }

  private static char[] randomPassword() {
    byte[] random = new byte[18];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random).toCharArray();
  }

  /** A new file per certificate: Pax Web ignores a configuration that did not change. */
  private Path writeStore(PemCredentials credentials, String fingerprint, char[] password)
      throws IOException, GeneralSecurityException {
    Files.createDirectories(storeDirectory);
    Path store = storeDirectory.resolve("https-" + fingerprint + ".p12");
    Path tmp = storeDirectory.resolve(store.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      credentials.keyStore(ALIAS, password).store(out, password);
    }
    try {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      LOG.debug("No POSIX permissions on {}", tmp, e);
    }
    Files.move(tmp, store, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return store;
  }

  private void pointPaxWebAt(Path store, char[] password) throws IOException {
    Configuration paxWeb = configurationAdmin.getConfiguration(PAX_WEB_PID, null);
    Dictionary<String, Object> properties = current(paxWeb);
    properties.put("org.osgi.service.http.secure.enabled", "true");
    properties.put("org.osgi.service.http.enabled", String.valueOf(config.plain__http()));
    properties.put("org.osgi.service.http.port.secure", String.valueOf(config.tls_port()));
    properties.put("org.ops4j.pax.web.ssl.keystore", store.toAbsolutePath().toString());
    properties.put("org.ops4j.pax.web.ssl.keystore.type", "PKCS12");
    properties.put("org.ops4j.pax.web.ssl.keystore.password", new String(password));
    properties.put("org.ops4j.pax.web.ssl.key.password", new String(password));
    properties.put("org.ops4j.pax.web.ssl.key.alias", ALIAS);
    properties.put("org.ops4j.pax.web.ssl.protocols.included", "TLSv1.2,TLSv1.3");
    paxWeb.update(properties);
  }

  /** Whether Pax Web still serves the store of this fingerprint with these settings. */
  private boolean sameSettingsInForce(String fingerprint) throws IOException {
    Dictionary<String, Object> properties =
        current(configurationAdmin.getConfiguration(PAX_WEB_PID, null));
    return "true".equals(String.valueOf(properties.get("org.osgi.service.http.secure.enabled")))
        && String.valueOf(properties.get("org.ops4j.pax.web.ssl.keystore"))
            .endsWith("https-" + fingerprint + ".p12")
        && Objects.equals(
            String.valueOf(config.tls_port()),
            String.valueOf(properties.get("org.osgi.service.http.port.secure")));
  }

  /** Turns HTTPS off again if it was this component that turned it on. */
  private void disableHttps() {
    try {
      Configuration paxWeb = configurationAdmin.getConfiguration(PAX_WEB_PID, null);
      Dictionary<String, Object> properties = current(paxWeb);
      Object store = properties.get("org.ops4j.pax.web.ssl.keystore");
      if (store == null || !Path.of(store.toString()).startsWith(storeDirectory.toAbsolutePath())) {
        return;
      }
      properties.put("org.osgi.service.http.secure.enabled", "false");
      properties.put("org.osgi.service.http.enabled", "true");
      paxWeb.update(properties);
      LOG.info("HTTPS turned off: no certificate and key configured");
    } catch (IOException e) {
      LOG.warn("Cannot turn HTTPS off in {}", PAX_WEB_PID, e);
    }
  }

  private static Dictionary<String, Object> current(Configuration configuration) {
    Dictionary<String, Object> properties = configuration.getProperties();
    return properties == null ? new Hashtable<>() : properties;
  }

  private void removeOtherStores(Path keep) {
    try (DirectoryStream<Path> stores = Files.newDirectoryStream(storeDirectory, "https-*.p12")) {
      for (Path store : stores) {
        if (!store.equals(keep)) {
          Files.deleteIfExists(store);
        }
      }
    } catch (IOException e) {
      LOG.warn("Cannot remove old HTTPS key stores in {}", storeDirectory, e);
    }
  }
}
