package org.postilion.http.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.net.Cidr;
import org.postilion.support.security.Authenticator;
import org.postilion.support.security.EvenTimeAuthenticator;
import org.postilion.support.security.FailedAuthThrottle;
import org.postilion.support.security.JaasAuthenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is trusted and who the credentials name, from {@code etc/org.postilion.http.security.cfg}. A
 * component of its own, so that editing the file changes these settings in place: were they the
 * filter's own configuration, Pax Web would take the filter down and up again, and requests would
 * fail for seconds. A bad entry is logged and left out, never trusted.
 */
@Component(service = AccessPolicy.class, configurationPid = "org.postilion.http.security")
@Designate(ocd = AccessPolicy.Config.class)
public class AccessPolicy {
  private static final Logger LOG = LoggerFactory.getLogger(AccessPolicy.class);
  private static final String TENANT_ROLE = "tenant.";
  private static final long CACHE_NANOS = 60_000_000_000L;
  private static final int CACHE_SIZE = 10_000;

  @ObjectClassDefinition(name = "Postilion HTTP access control")
  public @interface Config {
    @AttributeDefinition(
        description =
            "Comma-separated addresses and CIDR blocks that may use every endpoint without"
                + " credentials")
    String trusted__hosts() default "127.0.0.1/32, ::1/128";

    @AttributeDefinition(
        description = "Karaf JAAS realm for HTTP basic authentication; empty: none")
    String realm() default "postilion";

    @AttributeDefinition(description = "Role a JAAS user needs for /api/admin/* and /metrics")
    String admin__role() default "admin";

    @AttributeDefinition(
        description = "File of hashed API keys; empty: ${karaf.etc}/postilion-api-keys.properties")
    String api__keys() default "";

    @AttributeDefinition(
        description = "Failed authentications per address before it is refused for a while")
    int auth_max__failures() default 10;

    @AttributeDefinition(description = "Seconds a failed authentication counts against its address")
    int auth_failure__window() default 900;
  }

  /** Whose credentials they are, the tenant they carry, and whether they may use the admin API. */
  record Identity(String name, String tenant, boolean admin, long expiresNanos) {}

  /** What came of a client's credentials: who they name, or why not. */
  record Verdict(Identity identity, boolean locked) {
    static final Verdict FAILED = new Verdict(null, false);
    static final Verdict LOCKED = new Verdict(null, true);
  }

  /** What a bcrypt check is taken to cost until one has been timed. */
  private static final Duration TYPICAL_PASSWORD_CHECK = Duration.ofMillis(100);

  private volatile Settings settings;

  /** How often addresses whose failures have all aged out are forgotten. */
  private static final long EXPIRY_NANOS = 60_000_000_000L;

  private final AtomicLong lastExpiry = new AtomicLong(System.nanoTime());

  private record Settings(
      List<Cidr> trusted,
      Authenticator realm,
      String adminRole,
      ApiKeys keys,
      FailedAuthThrottle throttle,
      Duration window) {}

  /**
   * Successful basic logins by a hash of the credentials, so bcrypt runs once a minute, not per
   * request.
   */
  private final Map<String, Identity> recentLogins = new ConcurrentHashMap<>();

  @Activate
  @Modified
  void configure(Config config) {
    List<Cidr> trusted = new ArrayList<>();
    for (String entry : config.trusted__hosts().split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      try {
        trusted.add(Cidr.parse(entry));
      } catch (IllegalArgumentException e) {
        LOG.error("trusted_hosts: {}; that entry is not trusted", e.getMessage());
      }
    }
    Path keys =
        config.api__keys().isBlank()
            ? Path.of(System.getProperty("karaf.etc", "etc"), "postilion-api-keys.properties")
            : Path.of(config.api__keys());
    Duration window = Duration.ofSeconds(Math.max(1, config.auth_failure__window()));
    settings =
        new Settings(
            List.copyOf(trusted),
            config.realm().isBlank()
                ? null
                : new EvenTimeAuthenticator(
                    new JaasAuthenticator(config.realm().trim()), TYPICAL_PASSWORD_CHECK),
            config.admin__role().trim(),
            new ApiKeys(keys),
            new FailedAuthThrottle(
                Math.max(1, config.auth_max__failures()), window, Duration.ZERO, Clock.systemUTC()),
            window);
    recentLogins.clear();
    LOG.info("HTTP API trusts {} without credentials; API keys in {}", trusted, keys);
  }

  /** Whether a client at this address needs no credentials. */
  boolean isTrusted(String remoteAddress) {
    Settings settings = this.settings;
    InetAddress address;
    try {
      address = InetAddress.getByName(remoteAddress);
    } catch (UnknownHostException e) {
      return false;
    }
    return settings.trusted().stream().anyMatch(cidr -> cidr.contains(address));
  }

  /**
   * Who the Authorization header of a client names. An address that failed too often lately is
   * refused without a look at its credentials, like SMTP AUTH.
   */
  Verdict check(String authorization, String remoteAddress) {
    Settings settings = this.settings;
    long now = System.nanoTime();
    long last = lastExpiry.get();
    if (now - last > EXPIRY_NANOS && lastExpiry.compareAndSet(last, now)) {
      settings.throttle().expire();
    }
    if (settings.throttle().locked(remoteAddress)) {
      return Verdict.LOCKED;
    }
    Optional<Identity> identity = identify(settings, authorization);
    if (identity.isEmpty()) {
      settings.throttle().failed(remoteAddress);
      return Verdict.FAILED;
    }
    return new Verdict(identity.get(), false);
  }

  /** How long a locked-out address waits at most. */
  Duration lockout() {
    return settings.window();
  }

  /** Who the Authorization header names; empty when the credentials are wrong. */
  Optional<Identity> identify(String authorization) {
    return identify(settings, authorization);
  }

  /** For tests: check passwords with this instead of the JAAS realm. */
  void realm(Authenticator realm) {
    Settings current = settings;
    settings =
        new Settings(
            current.trusted(),
            realm,
            current.adminRole(),
            current.keys(),
            current.throttle(),
            current.window());
  }

  private Optional<Identity> identify(Settings settings, String authorization) {
    int space = authorization.indexOf(' ');
    if (space < 0) {
      return Optional.empty();
    }
    String scheme = authorization.substring(0, space);
    String value = authorization.substring(space + 1).trim();
    if (scheme.equalsIgnoreCase("Bearer")) {
      return settings
          .keys()
          .find(value)
          .map(key -> new Identity("API key " + key.name(), key.tenant(), false, 0));
    }
    if (scheme.equalsIgnoreCase("Basic") && settings.realm() != null) {
      return basic(settings, value);
    }
    return Optional.empty();
  }

  private Optional<Identity> basic(Settings settings, String encoded) {
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    int colon = decoded.indexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    String cacheKey = ApiKeys.sha256(decoded);
    long now = System.nanoTime();
    Identity cached = recentLogins.get(cacheKey);
    if (cached != null && now - cached.expiresNanos() < 0) {
      return Optional.of(cached);
    }
    String user = decoded.substring(0, colon);
    Optional<Set<String>> roles = settings.realm().authenticate(user, decoded.substring(colon + 1));
    if (roles.isEmpty()) {
      return Optional.empty();
    }
    String tenant =
        roles.get().stream()
            .filter(role -> role.startsWith(TENANT_ROLE))
            .map(role -> role.substring(TENANT_ROLE.length()))
            .findFirst()
            .orElse(null);
    Identity identity =
        new Identity(
            "user " + user, tenant, roles.get().contains(settings.adminRole()), now + CACHE_NANOS);
    if (recentLogins.size() >= CACHE_SIZE) {
      recentLogins.clear();
    }
    recentLogins.put(cacheKey, identity);
    return Optional.of(identity);
  }
}
