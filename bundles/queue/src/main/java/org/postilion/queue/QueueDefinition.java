package org.postilion.queue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.queue.Durations;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.RetrySchedule;
import org.postilion.api.shaping.Rate;
import org.postilion.queue.egress.EgressRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code etc/org.postilion.queue-<name>.cfg}: a factory configuration the queue manager picks
 * up, changes and drops at run time as the file comes, changes and goes.
 */
@Component(
    service = QueueDefinition.class,
    immediate = true,
    configurationPid = "org.postilion.queue",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = QueueDefinition.Config.class, factory = true)
public class QueueDefinition {
  private static final Logger LOG = LoggerFactory.getLogger(QueueDefinition.class);

  @ObjectClassDefinition(
      name = "Postilion queue",
      description = "Which protocol delivers the matching queues, and how they retry")
  public @interface Config {
    @AttributeDefinition(description = "example.com, *.example.com (subdomains) or * (default)")
    String match_domain() default "*";

    @AttributeDefinition(
        description = "Only queues of this tenant; empty for any",
        required = false)
    String match_tenant() default "";

    @AttributeDefinition(
        description = "Only queues of this campaign; empty for any",
        required = false)
    String match_campaign() default "";

    @AttributeDefinition(description = "Name of the delivery protocol service")
    String protocol() default QueueConfig.DEFAULT_PROTOCOL;

    @AttributeDefinition(description = "Delay before the first retry, doubled after each failure")
    String retry_interval() default "20m";

    @AttributeDefinition(description = "Longest delay between retries; empty for no limit")
    String retry_max__interval() default "";

    @AttributeDefinition(description = "Age at which an undelivered message expires")
    String max__age() default "7d";

    @AttributeDefinition(description = "Egress pool deliveries leave from; empty for the default")
    String egress__pool() default "";

    @AttributeDefinition(
        description = "Messages per period for the queue, e.g. 100/s; empty for any")
    String max__message__rate() default "";
  }

  /** Keys that belong to Config Admin and File Install, not to the protocol. */
  private static final String[] FRAMEWORK_PREFIXES = {
    "service.", "component.", "felix.", "osgi.", "org.apache.karaf."
  };

  private volatile QueueRule rule;

  /** The file's settings in force, for a rejection when its protocol arrives. */
  private volatile Config config;

  private BundleContext context;

  @Reference private EgressRegistry egress;

  /**
   * Applies a new file. A pool it names may not be defined yet while etc/ is still being read at
   * start-up, so mail for it waits for the pool instead. Its protocol keys are checked now when the
   * protocol is installed, else when it arrives.
   */
  @Activate
  public void activate(Config config, Map<String, Object> properties, BundleContext context) {
    this.context = context;
    String source = ConfigFiles.fileName(properties);
    try {
      rule = toRule(source, config, properties, this::installedKeys);
    } catch (IllegalArgumentException e) {
      // Its mail must not fall to the next rule (another protocol, another route): it waits.
      rule = rejected(source, config, e);
      return;
    }
    this.config = config;
    LOG.info("Queue configuration {} in force: {}", source, rule);
    String pool = rule.config().egressPool();
    if (pool != null && !egress.hasPool(pool)) {
      LOG.warn("{}: key egress_pool: no pool '{}' is defined yet; mail waits for it", source, pool);
    }
  }

  /**
   * Applies an edited file in place, so the queue manager never sees the configuration missing
   * between the old and the new version. An edit that does not hold keeps the previous version.
   */
  @Modified
  void modified(Config config, Map<String, Object> properties) {
    String source = ConfigFiles.fileName(properties);
    rule =
        ConfigFiles.parseOrReject(
            LOG,
            source,
            true,
            () -> {
              QueueRule edited = toRule(source, config, properties, this::installedKeys);
              String pool = edited.config().egressPool();
              if (pool != null && !egress.hasPool(pool)) {
                throw new IllegalArgumentException(
                    "key egress_pool: no egress pool '" + pool + "'");
              }
              return edited;
            });
    this.config = config;
    LOG.info("Queue configuration {} in force: {}", source, rule);
  }

  /**
   * The protocol the file names has arrived: its keys are checked against the ones it declares. A
   * file that does not hold is rejected and its mail waits until it is fixed.
   *
   * @return whether the rule in force changed
   */
  public synchronized boolean protocolArrived(String protocol, List<ProtocolKey> keys) {
    QueueRule current = rule;
    if (current == null
        || current.rejection() != null
        || config == null
        || !current.config().protocol().equals(protocol)) {
      return false;
    }
    try {
      QueueKeys.check(protocol, keys, current.config().properties());
      return false;
    } catch (IllegalArgumentException e) {
      rule = rejected(current.config().source(), config, e);
      return true;
    }
  }

  /** The keys of the installed protocol called {@code protocol}; null when none is installed. */
  private List<ProtocolKey> installedKeys(String protocol) {
    if (context == null) {
      return null;
    }
    try {
      String filter =
          "("
              + DeliveryProtocol.PROTOCOL
              + "="
              + protocol.replaceAll("([\\\\*()])", "\\\\$1")
              + ")";
      for (ServiceReference<DeliveryProtocol> reference :
          context.getServiceReferences(DeliveryProtocol.class, filter)) {
        DeliveryProtocol service = context.getService(reference);
        if (service != null) {
          try {
            return service.keys();
          } finally {
            context.ungetService(reference);
          }
        }
      }
    } catch (InvalidSyntaxException e) {
      throw new IllegalArgumentException("key protocol: not a protocol name: " + protocol, e);
    }
    return null;
  }

  public QueueRule rule() {
    return rule;
  }

  /**
   * A new file that does not hold: a rule that still matches what the file names, so that its mail
   * waits until the file is fixed. When not even its match keys hold, there is nothing to match.
   */
  private static QueueRule rejected(String source, Config config, IllegalArgumentException e) {
    QueueRule placeholder;
    try {
      placeholder =
          new QueueRule(
              config.match_domain(),
              config.match_tenant(),
              config.match_campaign(),
              new QueueConfig(
                  source,
                  config.protocol().isBlank() ? QueueConfig.DEFAULT_PROTOCOL : config.protocol(),
                  QueueRules.BUILT_IN_DEFAULT.retry(),
                  QueueRules.BUILT_IN_DEFAULT.maxAge(),
                  null,
                  null,
                  Map.of()),
              e.getMessage());
    } catch (IllegalArgumentException matchKeys) {
      LOG.error("{} rejected, {}", source, matchKeys.getMessage());
      throw matchKeys;
    }
    LOG.error(
        "{} rejected, {}; mail for {} waits until the file is fixed",
        source,
        e.getMessage(),
        placeholder.describeMatch());
    return placeholder;
  }

  /**
   * @param keysOf the keys a protocol declares, null when it is not installed (they are checked
   *     when it arrives)
   */
  static QueueRule toRule(
      String source,
      Config config,
      Map<String, Object> properties,
      Function<String, List<ProtocolKey>> keysOf) {
    Map<String, String> protocolKeys = new HashMap<>();
    properties.forEach(
        (key, value) -> {
          if (!isFrameworkKey(key)) {
            protocolKeys.put(key, String.valueOf(value));
          }
        });
    RetrySchedule retry =
        new RetrySchedule(
            duration("retry.interval", config.retry_interval()),
            config.retry_max__interval().isBlank()
                ? null
                : duration("retry.max_interval", config.retry_max__interval()));
    Duration maxAge = duration("max_age", config.max__age());
    String protocol = config.protocol().trim();
    if (protocol.isEmpty()) {
      throw new IllegalArgumentException("key protocol: must not be empty");
    }
    String pool = config.egress__pool().isBlank() ? null : config.egress__pool().trim();
    Rate rate = null;
    if (!config.max__message__rate().isBlank()) {
      try {
        rate = Rate.parse(config.max__message__rate());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("key max_message_rate: " + e.getMessage(), e);
      }
    }
    List<ProtocolKey> declared = keysOf.apply(protocol);
    if (declared != null) {
      QueueKeys.check(protocol, declared, protocolKeys);
    } else {
      LOG.info(
          "{}: protocol {} is not installed; its keys are checked when it arrives",
          source,
          protocol);
    }
    return new QueueRule(
        config.match_domain(),
        config.match_tenant(),
        config.match_campaign(),
        new QueueConfig(source, protocol, retry, maxAge, pool, rate, protocolKeys));
  }

  private static Duration duration(String key, String value) {
    try {
      return Durations.parse(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("key " + key + ": " + e.getMessage(), e);
    }
  }

  private static boolean isFrameworkKey(String key) {
    for (String prefix : FRAMEWORK_PREFIXES) {
      if (key.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
