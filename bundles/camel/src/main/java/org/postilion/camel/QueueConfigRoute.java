package org.postilion.camel;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postilion.api.queue.Durations;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueConfigPolicy;
import org.postilion.api.queue.QueueName;
import org.postilion.api.shaping.Rate;

/**
 * The {@code direct:queue-config} hook: when a route consumes it, it may override the queue
 * configuration the cfg files gave, per queue. In: headers {@code queue}, {@code domain}, {@code
 * tenant}, {@code campaign}, {@code protocol} and {@code config.<key>} for every key of the matched
 * configuration. Out: {@code protocol}, {@code max_age}, {@code max_message_rate}, {@code
 * egress_pool} and {@code config.<key>} (e.g. {@code config.smtp.mx_list}) as the route leaves
 * them.
 */
@Component
public class QueueConfigRoute implements QueueConfigPolicy {
  static final String ENDPOINT = "direct://queue-config";

  /** The runtime's shared template, which also names the context. */
  @Reference private ProducerTemplate producer;

  @Override
  public QueueConfig adjust(QueueName queue, QueueConfig config) {
    if (!ReceptionRoute.consumed(producer.getCamelContext(), ENDPOINT)) {
      return config;
    }
    Exchange exchange =
        producer.send(
            "direct:queue-config",
            in -> {
              var message = in.getMessage();
              message.setHeader("queue", queue.toString());
              message.setHeader("domain", queue.domain());
              message.setHeader("tenant", queue.tenant());
              message.setHeader("campaign", queue.campaign());
              message.setHeader("protocol", config.protocol());
              config
                  .properties()
                  .forEach((key, value) -> message.setHeader("config." + key, value));
            });
    if (exchange.getException() != null) {
      throw new IllegalStateException(
          "direct:queue-config failed: " + exchange.getException().getMessage(),
          exchange.getException());
    }
    var out = exchange.getMessage();
    Map<String, String> properties = new HashMap<>(config.properties());
    out.getHeaders()
        .forEach(
            (name, value) -> {
              if (name.toLowerCase(Locale.ROOT).startsWith("config.")) {
                String key = name.substring("config.".length());
                if (value == null || value.toString().isBlank()) {
                  properties.remove(key);
                } else {
                  properties.put(key, value.toString());
                }
              }
            });
    String protocol = text(out.getHeader("protocol"), config.protocol());
    String maxAge = text(out.getHeader("max_age"), null);
    String rate = text(out.getHeader("max_message_rate"), null);
    QueueConfig adjusted =
        new QueueConfig(
            config.source() + " + direct:queue-config",
            protocol,
            config.retry(),
            maxAge == null ? config.maxAge() : Durations.parse(maxAge),
            text(out.getHeader("egress_pool"), config.egressPool()),
            rate == null ? config.maxMessageRate() : Rate.parse(rate),
            properties);
    return adjusted.equals(withSource(config, adjusted.source())) ? config : adjusted;
  }

  private static QueueConfig withSource(QueueConfig config, String source) {
    return new QueueConfig(
        source,
        config.protocol(),
        config.retry(),
        config.maxAge(),
        config.egressPool(),
        config.maxMessageRate(),
        config.properties());
  }

  private static String text(Object value, String otherwise) {
    return value == null || value.toString().isBlank() ? otherwise : value.toString().trim();
  }
}
