package org.postilion.queue.providers;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.metrics.ProviderTable;
import org.postilion.api.metrics.Providers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mailbox providers from {@code etc/org.postilion.queue.providers.cfg}: each key a provider name,
 * its value the MX host name suffixes that make a site that provider's. The keys are the
 * operator's, so this PID has no fixed metatype; a malformed suffix refuses the file with a log
 * line naming it, and the table in force stays.
 */
@Component(
    service = Providers.class,
    configurationPid = ProvidersComponent.PID,
    configurationPolicy = ConfigurationPolicy.OPTIONAL)
public class ProvidersComponent implements Providers {
  static final String PID = "org.postilion.queue.providers";
  private static final Logger LOG = LoggerFactory.getLogger(ProvidersComponent.class);

  private volatile ProviderTable table = ProviderTable.EMPTY;

  @Activate
  @Modified
  void configure(Map<String, Object> properties) {
    boolean had = table != ProviderTable.EMPTY;
    table =
        ConfigFiles.parseOrReject(
            LOG, ConfigFiles.fileName(properties), had, () -> parse(properties));
    LOG.info("Mailbox providers: {}", table.names());
  }

  static ProviderTable parse(Map<String, Object> properties) {
    Map<String, String> providers = new LinkedHashMap<>();
    // Config Admin keeps no order: providers are matched in name order, documented in the file.
    new TreeMap<>(properties)
        .forEach(
            (key, value) -> {
              // Config Admin, File Install, Karaf and DS add properties of their own: all have a
              // dot (service.pid, osgi.ds.satisfying.condition.target), which no provider name has.
              if (!key.contains(".")) {
                providers.put(key, String.valueOf(value));
              }
            });
    return ProviderTable.of(providers);
  }

  @Override
  public String provider(String site) {
    return table.provider(site);
  }
}
