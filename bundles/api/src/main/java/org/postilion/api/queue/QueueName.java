package org.postilion.api.queue;

import java.util.Locale;
import java.util.Objects;

/**
 * A scheduled queue name, {@code campaign:tenant@domain} as KumoMTA writes it; unset parts are left
 * out together with their separator, so {@code tenant@domain} or just {@code domain}.
 */
public record QueueName(String campaign, String tenant, String domain) {

  public QueueName {
    campaign = blankToNull(campaign);
    tenant = blankToNull(tenant);
    Objects.requireNonNull(domain, "domain");
    domain = domain.toLowerCase(Locale.ROOT);
  }

  public static QueueName of(String campaign, String tenant, String domain) {
    return new QueueName(campaign, tenant, domain);
  }

  /** Parses the form produced by {@link #toString()}. */
  public static QueueName parse(String name) {
    String rest = name;
    String campaign = null;
    String tenant = null;
    int colon = rest.indexOf(':');
    if (colon >= 0) {
      campaign = rest.substring(0, colon);
      rest = rest.substring(colon + 1);
    }
    int at = rest.lastIndexOf('@');
    if (at >= 0) {
      tenant = rest.substring(0, at);
      rest = rest.substring(at + 1);
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("queue name without a domain: " + name);
    }
    return new QueueName(campaign, tenant, rest);
  }

  @Override
  public String toString() {
    StringBuilder name = new StringBuilder();
    if (campaign != null) {
      name.append(campaign).append(':');
    }
    if (tenant != null) {
      name.append(tenant).append('@');
    }
    return name.append(domain).toString();
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }
}
