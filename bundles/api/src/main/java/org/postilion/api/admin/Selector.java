package org.postilion.api.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postilion.api.queue.QueueName;

/**
 * Which scheduled queues an admin action applies to. Every part given must match; at least one part
 * must be given, so no action applies to everything by accident.
 *
 * @param domain the recipient domain, exactly
 * @param tenant the tenant
 * @param campaign the campaign
 * @param queue a whole scheduled queue name, {@code campaign:tenant@domain}, or several separated
 *     by commas (KumoMTA's {@code queue_names}): any of them matches
 */
public record Selector(String domain, String tenant, String campaign, String queue) {

  public Selector {
    domain = blankToNull(domain);
    domain = domain == null ? null : domain.toLowerCase(Locale.ROOT);
    tenant = blankToNull(tenant);
    campaign = blankToNull(campaign);
    queue = blankToNull(queue);
    if (domain == null && tenant == null && campaign == null && queue == null) {
      throw new IllegalArgumentException("name a domain, tenant, campaign or queue");
    }
    if (queue != null) {
      queue = String.join(",", queues(queue).stream().map(QueueName::toString).toList());
    }
  }

  /** Matching one of several scheduled queues, KumoMTA's {@code queue_names}. */
  public static Selector ofQueues(List<String> names) {
    return new Selector(null, null, null, String.join(",", names));
  }

  public boolean matches(QueueName name) {
    return (domain == null || domain.equals(name.domain()))
        && (tenant == null || tenant.equals(name.tenant()))
        && (campaign == null || campaign.equals(name.campaign()))
        && (queue == null || queues(queue).contains(name));
  }

  private static List<QueueName> queues(String names) {
    List<QueueName> parsed = new ArrayList<>();
    for (String name : names.split(",")) {
      if (!name.isBlank()) {
        parsed.add(QueueName.parse(name.trim()));
      }
    }
    return parsed;
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    if (queue != null) {
      parts.add("queue=" + queue);
    }
    if (domain != null) {
      parts.add("domain=" + domain);
    }
    if (tenant != null) {
      parts.add("tenant=" + tenant);
    }
    if (campaign != null) {
      parts.add("campaign=" + campaign);
    }
    return String.join(" ", parts);
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }
}
