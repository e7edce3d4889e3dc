package org.postilion.queue.shaping;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.api.shaping.TrafficShaping;

/**
 * The shaping cfg files in force, merged per destination: built-in defaults, then the default
 * files, then the files for the site, then the files for the domain, each later one overriding the
 * limits it sets. Files of the same rank apply in file name order.
 */
@Component(service = TrafficShaping.class, immediate = true)
public class ShapingRules implements TrafficShaping {
  private final List<ShapingDefinition> definitions = new CopyOnWriteArrayList<>();

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addDefinition(ShapingDefinition definition) {
    definitions.add(definition);
  }

  void removeDefinition(ShapingDefinition definition) {
    definitions.remove(definition);
  }

  @Override
  public ShapingSettings forDestination(String domain, String site) {
    List<ShapingRule> rules = new ArrayList<>();
    for (ShapingDefinition definition : definitions) {
      ShapingRule rule = definition.rule();
      if (rule != null) {
        rules.add(rule);
      }
    }
    return merge(rules, domain, site);
  }

  static ShapingSettings merge(List<ShapingRule> rules, String domain, String site) {
    List<ShapingRule> applicable = new ArrayList<>();
    for (ShapingRule rule : rules) {
      if (rule.isDefault()
          || (site != null && rule.matchesSite(site))
          || (domain != null && rule.matchesDomain(domain))) {
        applicable.add(rule);
      }
    }
    applicable.sort(Comparator.comparingInt(ShapingRules::rank).thenComparing(ShapingRule::source));
    ShapingSettings defaults = ShapingSettings.DEFAULTS;
    int connectionLimit = defaults.connectionLimit();
    Rate messageRate = defaults.maxMessageRate();
    Rate connectionRate = defaults.maxConnectionRate();
    int deliveriesPerConnection = defaults.maxDeliveriesPerConnection();
    int maxReady = defaults.maxReady();
    Duration idleTimeout = defaults.idleTimeout();
    boolean shared = defaults.shared();
    for (ShapingRule rule : applicable) {
      if (rule.connectionLimit() != null) {
        connectionLimit = rule.connectionLimit();
      }
      if (rule.maxMessageRate() != null) {
        messageRate = rule.maxMessageRate();
      }
      if (rule.maxConnectionRate() != null) {
        connectionRate = rule.maxConnectionRate();
      }
      if (rule.maxDeliveriesPerConnection() != null) {
        deliveriesPerConnection = rule.maxDeliveriesPerConnection();
      }
      if (rule.maxReady() != null) {
        maxReady = rule.maxReady();
      }
      if (rule.idleTimeout() != null) {
        idleTimeout = rule.idleTimeout();
      }
      if (rule.shared() != null) {
        shared = rule.shared();
      }
    }
    return new ShapingSettings(
        connectionLimit,
        messageRate,
        connectionRate,
        deliveriesPerConnection,
        maxReady,
        idleTimeout,
        shared);
  }

  /** Applied in this order, so the most specific wins. */
  private static int rank(ShapingRule rule) {
    if (rule.isDefault()) {
      return 0;
    }
    if (rule.site() != null) {
      return 1;
    }
    return rule.domain().startsWith("*.") ? 2 : 3;
  }
}
