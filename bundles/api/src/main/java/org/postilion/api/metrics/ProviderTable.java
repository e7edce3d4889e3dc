package org.postilion.api.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Mailbox providers by the names of their MX hosts, as KumoMTA's {@code provider} blocks with
 * {@code MXSuffix} rules: a site belongs to a provider when every one of its hosts ends with one of
 * the provider's suffixes ({@code .google.com}). The {@code provider} label of the {@code
 * *_by_provider} metrics and the rows of {@code mta:provider-summary} are a site's provider, or the
 * site's own name when no provider claims it, as in KumoMTA.
 *
 * <p>Registered as a service by the queue bundle from {@code
 * etc/org.postilion.queue.providers.cfg}.
 */
public final class ProviderTable {
  public static final ProviderTable EMPTY = new ProviderTable(Map.of());

  /** Provider name and its suffixes, lower case, in the order given (the first match wins). */
  private final Map<String, List<String>> suffixes;

  private ProviderTable(Map<String, List<String>> suffixes) {
    this.suffixes = suffixes;
  }

  /**
   * @param providers provider name to a comma separated list of MX host name suffixes
   * @throws IllegalArgumentException naming the provider whose list is empty or malformed
   */
  public static ProviderTable of(Map<String, String> providers) {
    Map<String, List<String>> table = new LinkedHashMap<>();
    providers.forEach(
        (name, list) -> {
          if (!name.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException(
                "provider names are letters, digits, '_' and '-': " + name);
          }
          List<String> parsed = new ArrayList<>();
          for (String suffix : list.split(",")) {
            String trimmed = suffix.trim().toLowerCase(Locale.ROOT);
            if (trimmed.isEmpty()) {
              continue;
            }
            if (!trimmed.matches("\\.?[a-z0-9-]+(\\.[a-z0-9-]+)*")) {
              throw new IllegalArgumentException(
                  name + ": not an MX host name suffix: " + suffix.trim());
            }
            parsed.add(trimmed);
          }
          if (parsed.isEmpty()) {
            throw new IllegalArgumentException(name + ": no MX host name suffix given");
          }
          table.put(name, List.copyOf(parsed));
        });
    return new ProviderTable(table);
  }

  /** The provider names, in the order they are matched. */
  public List<String> names() {
    return List.copyOf(suffixes.keySet());
  }

  /**
   * The provider of a site, or the site itself when none claims it.
   *
   * @param site a ready queue's site: for SMTP its MX hosts, {@code host:port} separated by commas
   *     (a host may be an address in brackets); for other protocols whatever the protocol named
   */
  public String provider(String site) {
    if (site == null || site.isEmpty()) {
      return "";
    }
    List<String> hosts = hosts(site);
    for (Map.Entry<String, List<String>> provider : suffixes.entrySet()) {
      if (!hosts.isEmpty() && hosts.stream().allMatch(h -> endsWithAny(h, provider.getValue()))) {
        return provider.getKey();
      }
    }
    return site;
  }

  private static boolean endsWithAny(String host, List<String> suffixes) {
    for (String suffix : suffixes) {
      if (host.endsWith(suffix) || (!suffix.startsWith(".") && host.equals(suffix))) {
        return true;
      }
    }
    return false;
  }

  private static List<String> hosts(String site) {
    List<String> hosts = new ArrayList<>();
    for (String part : site.toLowerCase(Locale.ROOT).split(",")) {
      String host = part.trim();
      if (host.startsWith("[")) {
        continue; // an address names no provider
      }
      int colon = host.lastIndexOf(':');
      if (colon > 0) {
        host = host.substring(0, colon);
      }
      if (host.endsWith(".")) {
        host = host.substring(0, host.length() - 1);
      }
      if (!host.isEmpty()) {
        hosts.add(host);
      }
    }
    return hosts;
  }
}
