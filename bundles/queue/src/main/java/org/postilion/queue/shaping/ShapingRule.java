package org.postilion.queue.shaping;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import org.postilion.api.shaping.Rate;

/**
 * One shaping cfg file: what it applies to and the limits it sets; {@code null} leaves a limit to
 * the less specific rules.
 *
 * @param domain a recipient domain ({@code example.com} or {@code *.example.com}); {@code null}
 * @param site a site name, {@code *} matching any characters; {@code null}
 * @param shared whether the limits hold across the cluster's nodes; {@code null} leaves it to the
 *     less specific rules
 */
record ShapingRule(
    String source,
    String domain,
    String site,
    Integer connectionLimit,
    Rate maxMessageRate,
    Rate maxConnectionRate,
    Integer maxDeliveriesPerConnection,
    Integer maxReady,
    Duration idleTimeout,
    Boolean shared) {

  /** A rule of this node alone, for tests. */
  ShapingRule(
      String source,
      String domain,
      String site,
      Integer connectionLimit,
      Rate maxMessageRate,
      Rate maxConnectionRate,
      Integer maxDeliveriesPerConnection,
      Integer maxReady,
      Duration idleTimeout) {
    this(
        source,
        domain,
        site,
        connectionLimit,
        maxMessageRate,
        maxConnectionRate,
        maxDeliveriesPerConnection,
        maxReady,
        idleTimeout,
        null);
  }

  ShapingRule {
    domain = blankToNull(domain);
    domain = domain == null ? null : domain.toLowerCase(Locale.ROOT);
    site = blankToNull(site);
    site = site == null ? null : site.toLowerCase(Locale.ROOT);
    if (domain != null && site != null) {
      throw new IllegalArgumentException("give match.domain or match.site, not both");
    }
    if (domain != null && domain.indexOf('*', domain.startsWith("*.") ? 1 : 0) >= 0) {
      throw new IllegalArgumentException(
          "key match.domain: '" + domain + "' may only start with '*.'");
    }
  }

  boolean isDefault() {
    return domain == null && site == null;
  }

  boolean matchesDomain(String candidate) {
    if (domain == null) {
      return false;
    }
    String lower = candidate.toLowerCase(Locale.ROOT);
    return domain.startsWith("*.") ? lower.endsWith(domain.substring(1)) : lower.equals(domain);
  }

  boolean matchesSite(String candidate) {
    if (site == null) {
      return false;
    }
    StringBuilder regex = new StringBuilder();
    String[] parts = site.split("\\*", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        regex.append(".*");
      }
      regex.append(Pattern.quote(parts[i]));
    }
    String pattern = regex.toString();
    return Pattern.matches(pattern, candidate.toLowerCase(Locale.ROOT));
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }
}
