package org.postilion.queue.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.egress.EgressSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One {@code etc/org.postilion.queue.egress.source-<name>.cfg}: a named egress source. */
@Component(
    service = EgressSourceDefinition.class,
    immediate = true,
    configurationPid = EgressSourceDefinition.PID,
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = EgressSourceDefinition.Config.class, factory = true)
public class EgressSourceDefinition {
  static final String PID = "org.postilion.queue.egress.source";
  private static final Logger LOG = LoggerFactory.getLogger(EgressSourceDefinition.class);

  @ObjectClassDefinition(
      name = "Postilion egress source",
      description = "A local address and EHLO name that deliveries leave from")
  public @interface Config {
    @AttributeDefinition(description = "Name used by pools; empty for the file name's suffix")
    String name() default "";

    @AttributeDefinition(description = "Local IP address to bind; empty for the system's choice")
    String source__address() default "";

    @AttributeDefinition(description = "Name to say in EHLO; empty for the protocol's default")
    String ehlo__domain() default "";
  }

  private volatile EgressSource source;

  @Activate
  @Modified
  void activate(Config config, Map<String, Object> properties) {
    String file = ConfigFiles.fileName(properties);
    source =
        ConfigFiles.parseOrReject(
            LOG,
            file,
            source != null,
            () ->
                new EgressSource(
                    ConfigFiles.instanceName(config.name(), PID, properties),
                    ipAddress(config.source__address()),
                    config.ehlo__domain().isBlank() ? null : config.ehlo__domain().trim()));
    LOG.info("Egress source {} from {}", source, file);
  }

  EgressSource source() {
    return source;
  }

  /** Only literal addresses: a name would need DNS at every configuration change. */
  private static InetAddress ipAddress(String text) {
    String value = text.trim();
    if (value.isEmpty()) {
      return null;
    }
    boolean literal = value.contains(":") || value.matches("[0-9.]+");
    if (literal) {
      try {
        return InetAddress.getByName(value);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException(
            "key source_address: not an IP address: '" + value + "'", e);
      }
    }
    throw new IllegalArgumentException("key source_address: not an IP address: '" + value + "'");
  }
}
