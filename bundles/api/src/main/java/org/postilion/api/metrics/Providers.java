package org.postilion.api.metrics;

/**
 * The mailbox provider of a destination site, as configured in {@code
 * etc/org.postilion.queue.providers.cfg} (see {@link ProviderTable}).
 */
public interface Providers {
  /** The provider claiming the site, or the site's own name when none does. */
  String provider(String site);
}
