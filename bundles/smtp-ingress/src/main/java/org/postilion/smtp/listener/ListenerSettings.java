package org.postilion.smtp.listener;

import java.net.IDN;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.postilion.api.config.LocalHost;
import org.postilion.api.net.Cidr;
import org.postilion.smtp.tls.TlsSettings;

/** A listener's validated settings. */
record ListenerSettings(
    String name,
    String address,
    int port,
    String hostname,
    long maxMessageSize,
    int maxRecipients,
    List<Cidr> relayHosts,
    Set<String> relayDomains,
    int workerThreads,
    Limits limits,
    TlsSettings tls,
    Auth auth,
    boolean tlsRequired,
    Set<String> reportDomains) {

  /** What one client may do before it is refused or disconnected. */
  record Limits(
      int maxConnections,
      int maxConnectionsPerIp,
      boolean perIpExemptsRelayHosts,
      Duration commandTimeout,
      Duration dataTimeout,
      int maxBadCommands,
      int maxLineLength,
      int maxHeaderSize) {

    Limits {
      if (maxConnections < 0 || maxConnectionsPerIp < 0) {
        throw new IllegalArgumentException(
            "max_connections and max_connections_per_ip must not be negative");
      }
      if (commandTimeout.isNegative()
          || commandTimeout.isZero()
          || dataTimeout.isNegative()
          || dataTimeout.isZero()) {
        throw new IllegalArgumentException("command_timeout and data_timeout must be positive");
      }
      if (maxBadCommands < 1) {
        throw new IllegalArgumentException("max_bad_commands must be at least 1");
      }
      // RFC 5321 4.5.3.1.6: a text line may be 1000 octets with its CRLF.
      if (maxLineLength < 1000) {
        throw new IllegalArgumentException(
            "max_line_length must be at least 1000 (RFC 5321): " + maxLineLength);
      }
      if (maxHeaderSize < 1000) {
        throw new IllegalArgumentException("max_header_size must be at least 1000");
      }
    }

    static Limits defaults() {
      return new Limits(
          1000, 50, true, Duration.ofMinutes(5), Duration.ofMinutes(3), 20, 8192, 256 * 1024);
    }
  }

  /** Who may AUTH, and when. */
  record Auth(
      boolean allowPlaintext, boolean requireAuth, int maxFailures, Duration failureWindow) {
    Auth {
      if (maxFailures < 1 || failureWindow.isNegative() || failureWindow.isZero()) {
        throw new IllegalArgumentException(
            "auth.max_failures and auth.failure_window must be positive");
      }
    }

    static Auth defaults() {
      return new Auth(false, false, 10, Duration.ofMinutes(15));
    }
  }

  ListenerSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is out of range");
    }
    // MailSizeEsmtpExtension counts in an int.
    if (maxMessageSize <= 0 || maxMessageSize > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "max_message_size must be between 1 and " + Integer.MAX_VALUE + ": " + maxMessageSize);
    }
    if (maxRecipients < 1) {
      throw new IllegalArgumentException("max_recipients must be at least 1: " + maxRecipients);
    }
    if (workerThreads < 1) {
      throw new IllegalArgumentException("worker_threads must be positive");
    }
    relayHosts = List.copyOf(relayHosts);
    relayDomains = Set.copyOf(relayDomains);
    reportDomains = Set.copyOf(reportDomains);
  }

  static ListenerSettings from(String name, SmtpListener.Config config, Path dataFolder) {
    String hostname = config.hostname().isBlank() ? LocalHost.name() : config.hostname().trim();
    List<Cidr> relayHosts = new ArrayList<>();
    for (String entry : split(config.relay__hosts())) {
      relayHosts.add(Cidr.parse(entry));
    }
    Set<String> relayDomains = domains(config.relay__domains());
    Limits limits =
        new Limits(
            config.max__connections(),
            config.max__connections__per__ip(),
            config.max__connections__per__ip_exempt__relay__hosts(),
            Duration.ofSeconds(config.command__timeout()),
            Duration.ofSeconds(config.data__timeout()),
            config.max__bad__commands(),
            config.max__line__length(),
            config.max__header__size());
    TlsSettings tls =
        new TlsSettings(
            TlsSettings.Mode.parse(config.tls_mode()),
            optionalPath(config.tls_certificate()),
            optionalPath(config.tls_private__key()),
            dataFolder.resolve("tls"),
            hostname,
            split(config.tls_protocols()),
            split(config.tls_ciphers()));
    Auth auth =
        new Auth(
            config.auth_allow__plaintext(),
            config.listener_require__auth(),
            config.auth_max__failures(),
            Duration.ofSeconds(config.auth_failure__window()));
    Set<String> reportDomains = domains(config.report__domains());
    switch (config.role().trim().toLowerCase(Locale.ROOT)) {
      case "relay" -> {
        if (!reportDomains.isEmpty()) {
          throw new IllegalArgumentException("report_domains needs role = reports");
        }
      }
      case "reports" -> {
        if (reportDomains.isEmpty()) {
          throw new IllegalArgumentException(
              "role = reports needs report_domains: the domains reports are sent to");
        }
      }
      default ->
          throw new IllegalArgumentException(
              "role must be relay or reports, not " + config.role().trim());
    }
    if (tls.mode() == TlsSettings.Mode.OFF && config.tls_required()) {
      throw new IllegalArgumentException("tls.required needs tls.mode starttls or implicit");
    }
    return new ListenerSettings(
        name,
        config.address().trim(),
        config.port(),
        hostname,
        config.max__message__size(),
        config.max__recipients(),
        relayHosts,
        relayDomains,
        config.worker__threads(),
        limits,
        tls,
        auth,
        config.tls_required(),
        reportDomains);
  }

  private static Set<String> domains(String list) {
    return split(list).stream()
        // SMTPUTF8 recipients arrive with A-label domains.
        .map(d -> IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT))
        .collect(Collectors.toSet());
  }

  ListenerSettings withLimits(Limits changed) {
    return with(changed, tls, auth);
  }

  ListenerSettings withAuth(Auth changed) {
    return with(limits, tls, changed);
  }

  ListenerSettings withTls(TlsSettings changed) {
    return with(limits, changed, auth);
  }

  private ListenerSettings with(Limits newLimits, TlsSettings newTls, Auth newAuth) {
    return new ListenerSettings(
        name,
        address,
        port,
        hostname,
        maxMessageSize,
        maxRecipients,
        relayHosts,
        relayDomains,
        workerThreads,
        newLimits,
        newTls,
        newAuth,
        tlsRequired,
        reportDomains);
  }

  int maxConnections() {
    return limits.maxConnections();
  }

  int maxConnectionsPerIp() {
    return limits.maxConnectionsPerIp();
  }

  /** Whether the per-address limit counts this client: not the relay hosts, unless configured. */
  boolean perIpLimitApplies(InetAddress client) {
    return limits.maxConnectionsPerIp() > 0
        && !(limits.perIpExemptsRelayHosts() && mayRelay(client));
  }

  Duration commandTimeout() {
    return limits.commandTimeout();
  }

  Duration dataTimeout() {
    return limits.dataTimeout();
  }

  int maxBadCommands() {
    return limits.maxBadCommands();
  }

  int maxLineLength() {
    return limits.maxLineLength();
  }

  int maxHeaderSize() {
    return limits.maxHeaderSize();
  }

  boolean authAllowPlaintext() {
    return auth.allowPlaintext();
  }

  boolean requireAuth() {
    return auth.requireAuth();
  }

  boolean mayRelay(InetAddress client) {
    return relayHosts.stream().anyMatch(network -> network.contains(client));
  }

  boolean acceptsDomain(String domain) {
    return relayDomains.contains(domain.toLowerCase(Locale.ROOT));
  }

  /** Whether this listener only receives reports (role = reports): it never relays. */
  boolean receivesReports() {
    return !reportDomains.isEmpty();
  }

  boolean isReportDomain(String domain) {
    return reportDomains.contains(domain.toLowerCase(Locale.ROOT));
  }

  private static Path optionalPath(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    Path path = Path.of(value.trim());
    return path.isAbsolute()
        ? path
        : Path.of(System.getProperty("karaf.etc", "etc")).resolve(path).toAbsolutePath();
  }

  private static List<String> split(String list) {
    return Arrays.stream(list.split("[,\\s]+")).filter(s -> !s.isBlank()).toList();
  }
}
