package org.postilion.queue;

import java.util.Comparator;
import java.util.Locale;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;

/**
 * One queue configuration file: what it matches and the configuration it gives.
 *
 * @param domain {@code example.com}, {@code *.example.com} (subdomains only) or {@code *}
 * @param tenant the tenant it is limited to, or {@code null} for any
 * @param campaign the campaign it is limited to, or {@code null} for any
 * @param rejection why the file was refused, or {@code null}: mail it matches waits until the file
 *     is fixed rather than take whatever rule comes next
 */
public record QueueRule(
    String domain, String tenant, String campaign, QueueConfig config, String rejection) {

  public QueueRule(String domain, String tenant, String campaign, QueueConfig config) {
    this(domain, tenant, campaign, config, null);
  }

  /**
   * Most specific first: a named domain beats a wildcard, a longer wildcard beats a shorter one,
   * and between equal domain matches one limited to a tenant, then to a campaign, wins. The name of
   * the configuration breaks the last tie, so the choice never depends on load order.
   */
  public static final Comparator<QueueRule> MOST_SPECIFIC_FIRST =
      Comparator.comparingInt(QueueRule::domainRank)
          .thenComparingInt(r -> r.tenant == null ? 0 : 1)
          .thenComparingInt(r -> r.campaign == null ? 0 : 1)
          .reversed()
          .thenComparing(r -> r.config.source());

  public QueueRule {
    domain = domain == null || domain.isBlank() ? "*" : domain.trim().toLowerCase(Locale.ROOT);
    if (!domain.equals("*") && domain.substring(1).contains("*")) {
      throw new IllegalArgumentException(
          "match.domain '" + domain + "' may only start with '*.' or be '*'");
    }
    if (domain.startsWith("*") && !domain.equals("*") && !domain.startsWith("*.")) {
      throw new IllegalArgumentException(
          "match.domain '" + domain + "' may only start with '*.' or be '*'");
    }
    tenant = tenant == null || tenant.isBlank() ? null : tenant.trim();
    campaign = campaign == null || campaign.isBlank() ? null : campaign.trim();
  }

  /** What the rule matches, for logs: {@code domain example.com, tenant acme}. */
  public String describeMatch() {
    return "domain "
        + domain
        + (tenant == null ? "" : ", tenant " + tenant)
        + (campaign == null ? "" : ", campaign " + campaign);
  }

  public boolean matches(QueueName queue) {
    return domainMatches(queue.domain())
        && (tenant == null || tenant.equals(queue.tenant()))
        && (campaign == null || campaign.equals(queue.campaign()));
  }

  private boolean domainMatches(String candidate) {
    if (domain.equals("*")) {
      return true;
    }
    if (domain.startsWith("*.")) {
      return candidate.endsWith(domain.substring(1));
    }
    return candidate.equals(domain);
  }

  /** Exact domains rank above every wildcard; longer wildcards above shorter ones. */
  private int domainRank() {
    if (domain.equals("*")) {
      return 0;
    }
    return domain.startsWith("*.") ? domain.length() : Integer.MAX_VALUE;
  }
}
