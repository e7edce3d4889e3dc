package org.postilion.http.security;

import java.io.IOException;
import java.util.Optional;
import javax.servlet.Filter;
import javax.servlet.FilterChain;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardFilterAsyncSupported;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardFilterName;
import org.osgi.service.http.whiteboard.propertytypes.HttpWhiteboardFilterPattern;
import org.postilion.http.web.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may call what. Liveness is open; the admin API and {@code /metrics} need a trusted address or
 * the credentials of a user with the admin role; injection needs a trusted address, a JAAS user or
 * an API key. A key's tenant, or a user's {@code tenant.<name>} role, becomes the tenant of what
 * they inject. Wrong credentials get one 401 that does not say what was wrong.
 */
@Component(service = Filter.class)
@HttpWhiteboardFilterName("postilion-access")
@HttpWhiteboardFilterPattern({"/api/*", "/metrics"})
// Injection answers from its render threads; a filter in front of it must allow that.
@HttpWhiteboardFilterAsyncSupported
public class AccessFilter implements Filter {
  private static final Logger LOG = LoggerFactory.getLogger(AccessFilter.class);

  /** Request attribute: the tenant of the credentials, for injection. */
  public static final String TENANT = "org.postilion.http.tenant";

  private enum Need {
    NOTHING,
    INJECT,
    ADMIN
  }

  /** Trusted hosts and credentials; changes in place when its cfg file does. */
  @Reference private AccessPolicy policy;

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
    String authorization = request.getHeader("Authorization");
    if (authorization == null) {
      if (policy.isTrusted(request.getRemoteAddr())) {
        chain.doFilter(request, response);
      } else {
        challenge(response, "credentials are required from " + request.getRemoteAddr());
      }
      return;
    }
    AccessPolicy.Verdict verdict = policy.check(authorization, request.getRemoteAddr());
    if (verdict.locked()) {
      response.setHeader("Retry-After", String.valueOf(policy.lockout().toSeconds()));
      Json.write(
          response,
          429,
          Json.errorBody("too many failed authentications from this address, try later", null));
      return;
    }
    Optional<AccessPolicy.Identity> identity = Optional.ofNullable(verdict.identity());
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

  private static void challenge(HttpServletResponse response, String message) throws IOException {
    response.setHeader("WWW-Authenticate", "Basic realm=\"Postilion\", Bearer");
    Json.write(response, 401, Json.errorBody(message, null));
  }
}
