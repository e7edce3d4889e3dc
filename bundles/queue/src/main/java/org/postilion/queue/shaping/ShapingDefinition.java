package org.postilion.queue.shaping;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.queue.Durations;
import org.postilion.api.shaping.Rate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code etc/org.postilion.queue.shaping-<name>.cfg}: limits for a domain, a site, or (with
 * neither) the default. An edit that does not parse is refused and the previous limits stay.
 */
@Component(
    service = ShapingDefinition.class,
    immediate = true,
    configurationPid = "org.postilion.queue.shaping",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ShapingDefinition.Config.class, factory = true)
public class ShapingDefinition {
  private static final Logger LOG = LoggerFactory.getLogger(ShapingDefinition.class);

  @ObjectClassDefinition(
      name = "Postilion traffic shaping",
      description = "Connection and rate limits per destination domain, site, or default")
  public @interface Config {
    @AttributeDefinition(description = "Recipient domain: example.com or *.example.com")
    String match_domain() default "";

    @AttributeDefinition(description = "Destination site name; * matches any characters")
    String match_site() default "";

    @AttributeDefinition(description = "Connections open at once per site and egress source")
    String connection__limit() default "";

    @AttributeDefinition(description = "Messages per site and egress source, e.g. 100/s, 5000/h")
    String max__message__rate() default "";

    @AttributeDefinition(description = "New connections per site and egress source, e.g. 10/min")
    String max__connection__rate() default "";

    @AttributeDefinition(description = "Messages over one connection before it is closed")
    String max__deliveries__per__connection() default "";

    @AttributeDefinition(description = "Messages a ready queue holds; more wait in their queues")
    String max__ready() default "";

    @AttributeDefinition(description = "An unused connection is closed after this, e.g. 60s")
    String idle__timeout() default "";

    @AttributeDefinition(
        description =
            "true: connection_limit and the rates hold across the cluster's nodes (Redis)")
    String shared() default "";
  }

  private volatile ShapingRule rule;

  @Activate
  @Modified
  void activate(Config config, Map<String, Object> properties) {
    String file = ConfigFiles.fileName(properties);
    rule = ConfigFiles.parseOrReject(LOG, file, rule != null, () -> toRule(file, config));
    LOG.info("Traffic shaping {} in force: {}", file, rule);
  }

  ShapingRule rule() {
    return rule;
  }

  static ShapingRule toRule(String source, Config config) {
    return new ShapingRule(
        source,
        config.match_domain(),
        config.match_site(),
        positive("connection_limit", config.connection__limit()),
        rate("max_message_rate", config.max__message__rate()),
        rate("max_connection_rate", config.max__connection__rate()),
        positive("max_deliveries_per_connection", config.max__deliveries__per__connection()),
        positive("max_ready", config.max__ready()),
        duration("idle_timeout", config.idle__timeout()),
        bool("shared", config.shared()));
  }

  private static Integer positive(String key, String value) {
    if (value.isBlank()) {
      return null;
    }
    int number;
    try {
      number = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("key " + key + ": not a number: '" + value + "'", e);
    }
    if (number < 1) {
      throw new IllegalArgumentException("key " + key + ": must be at least 1, not " + number);
    }
    return number;
  }

  private static Boolean bool(String key, String value) {
    if (value.isBlank()) {
      return null;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> Boolean.TRUE;
      case "false" -> Boolean.FALSE;
      default ->
          throw new IllegalArgumentException(
              "key " + key + ": write true or false, not '" + value + "'");
    };
  }

  private static Duration duration(String key, String value) {
    if (value.isBlank()) {
      return null;
    }
    Duration duration;
    try {
      duration = Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key " + key + ": " + e.getMessage(), e);
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("key " + key + ": must be positive, not " + value);
    }
    return duration;
  }

  private static Rate rate(String key, String value) {
    if (value.isBlank()) {
      return null;
    }
    try {
      return Rate.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key " + key + ": " + e.getMessage(), e);
    }
  }
}
