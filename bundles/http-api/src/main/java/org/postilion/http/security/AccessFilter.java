package org.postilion.http.security;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.servlet.Filter;
import javax.servlet.FilterChain;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardFilterName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardFilterPattern;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.net.Cidr;
import org.postilion.api.security.Authenticator;
import org.postilion.api.security.JaasAuthenticator;
import org.postilion.http.web.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may call what. Liveness is open; the admin API and {@code /metrics} need a trusted address or
 * the credentials of a user with the admin role; injection needs a trusted address, a JAAS user or
 * an API key. A key's tenant, or a user's {@code tenant.<name>} role, becomes the tenant of what
 * they inject. Wrong credentials get one 401 that does not say what was wrong.
 */
@Component(service = Filter.class, configurationPid = "org.postilion.http.security")
@HttpWhiteboardFilterName("postilion-access")
@HttpWhiteboardFilterPattern({"/api/*", "/metrics"})
@Designate(ocd = AccessFilter.Config.class)
public class AccessFilter implements Filter {
  private static final Logger LOG = LoggerFactory.getLogger(AccessFilter.class);

  /** Request attribute: the tenant of the credentials, for injection. */
  public static final String TENANT = "org.postilion.http.tenant";

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
  }

  private enum Need {
    NOTHING,
    INJECT,
    ADMIN
  }

  private record Identity(String name, String tenant, boolean admin, long expiresNanos) {}

  private volatile Settings settings;

  private record Settings(
      List<Cidr> trusted, Authenticator realm, String adminRole, ApiKeys keys) {}

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
      if (!entry.isBlank()) {
        trusted.add(Cidr.parse(entry));
      }
    }
    Path keys =
        config.api__keys().isBlank()
            ? Path.of(System.getProperty("karaf.etc", "etc"), "postilion-api-keys.properties")
            : Path.of(config.api__keys());
    settings =
        new Settings(
            List.copyOf(trusted),
            config.realm().isBlank() ? null : new JaasAuthenticator(config.realm().trim()),
            config.admin__role().trim(),
            new ApiKeys(keys));
    recentLogins.clear();
    LOG.info("HTTP API trusts {} without credentials; API keys in {}", trusted, keys);
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    // The path as the container resolved it ("..", escapes), so it names the servlet that runs.
    String path =
        request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
    Need need = need(path);
    if (need == Need.NOTHING) {
      chain.doFilter(request, response);
      return;
    }
    Settings current = settings;
    String authorization = request.getHeader("Authorization");
    if (authorization == null) {
      if (isTrusted(current, request.getRemoteAddr())) {
        chain.doFilter(request, response);
      } else {
        challenge(response, "credentials are required from " + request.getRemoteAddr());
      }
      return;
    }
    Optional<Identity> identity = identify(current, authorization);
    if (identity.isEmpty()) {
      LOG.info("HTTP authentication from {} failed", request.getRemoteAddr());
      challenge(response, "authentication failed");
      return;
    }
    if (need == Need.ADMIN && !identity.get().admin()) {
      Json.write(
          response,
          403,
          Json.errorBody(identity.get().name() + " may not use the admin API or metrics", null));
      return;
    }
    if (identity.get().tenant() != null) {
      request.setAttribute(TENANT, identity.get().tenant());
    }
    chain.doFilter(request, response);
  }

  private static Need need(String path) {
    if (path.equals("/api/check-liveness/v1")) {
      return Need.NOTHING;
    }
    if (path.startsWith("/api/inject/") || path.equals("/api/openapi.json")) {
      return Need.INJECT;
    }
    return Need.ADMIN;
  }

  private static boolean isTrusted(Settings settings, String remoteAddress) {
    InetAddress address;
    try {
      address = InetAddress.getByName(remoteAddress);
    } catch (UnknownHostException e) {
      return false;
    }
    return settings.trusted().stream().anyMatch(cidr -> cidr.contains(address));
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

  private static void challenge(HttpServletResponse response, String message) throws IOException {
    response.setHeader("WWW-Authenticate", "Basic realm=\"Postilion\", Bearer");
    Json.write(response, 401, Json.errorBody(message, null));
  }
}
