package org.postilion.queue.egress;

import java.util.LinkedHashMap;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.ConfigFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One {@code etc/org.postilion.queue.egress.pool-<name>.cfg}: weighted egress sources. */
@Component(
    service = EgressPoolDefinition.class,
    immediate = true,
    configurationPid = EgressPoolDefinition.PID,
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = EgressPoolDefinition.Config.class, factory = true)
public class EgressPoolDefinition {
  static final String PID = "org.postilion.queue.egress.pool";
  private static final Logger LOG = LoggerFactory.getLogger(EgressPoolDefinition.class);

  @ObjectClassDefinition(
      name = "Postilion egress pool",
      description = "Egress sources a queue's mail is spread over, by weight")
  public @interface Config {
    @AttributeDefinition(description = "Name queue cfgs give as egress_pool; empty for the suffix")
    String name() default "";

    @AttributeDefinition(description = "Source names, each optionally :weight, e.g. ip1:3, ip2")
    String sources();
  }

  /** A pool's name and its sources' names with their weights, in the order written. */
  record Pool(String name, Map<String, Integer> weights) {}

  private volatile Pool pool;

  @Activate
  @Modified
  void activate(Config config, Map<String, Object> properties) {
    String file = ConfigFiles.fileName(properties);
    pool =
        ConfigFiles.parseOrReject(
            LOG,
            file,
            pool != null,
            () ->
                new Pool(
                    ConfigFiles.instanceName(config.name(), PID, properties),
                    parseWeights(config.sources())));
    LOG.info("Egress pool {} from {}: {}", pool.name(), file, pool.weights());
  }

  Pool pool() {
    return pool;
  }

  static Map<String, Integer> parseWeights(String text) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (String item : text.split("[,\\s]+")) {
      if (item.isBlank()) {
        continue;
      }
      int colon = item.lastIndexOf(':');
      String name = colon < 0 ? item : item.substring(0, colon);
      int weight = 1;
      if (colon >= 0) {
        try {
          weight = Integer.parseInt(item.substring(colon + 1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              "key sources: weight of '" + name + "' is not a number: '" + item + "'", e);
        }
      }
      if (weight < 1) {
        throw new IllegalArgumentException(
            "key sources: weight of '" + name + "' must be at least 1, not " + weight);
      }
      weights.put(name, weight);
    }
    if (weights.isEmpty()) {
      throw new IllegalArgumentException("key sources: a pool needs at least one source");
    }
    return weights;
  }
}
