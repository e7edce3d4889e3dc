package org.postilion.http.inject;

import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.reception.LocalListener;
import org.postilion.http.web.MemoryBudget;

/**
 * The injection limits of {@code etc/org.postilion.http.inject.cfg} and the injector built for
 * them. A component of its own, so that editing the file changes them in place: were they the
 * servlet's own configuration, Pax Web would take the servlet down and up again and injection would
 * answer 404 for seconds.
 */
@Component(service = InjectSettings.class, configurationPid = "org.postilion.http.inject")
@Designate(ocd = InjectSettings.Config.class)
public class InjectSettings {

  @ObjectClassDefinition(
      name = "Postilion HTTP injection",
      description = "POST /api/inject/v1 and /api/inject/raw/v1")
  public @interface Config {
    @AttributeDefinition(description = "Largest request body in bytes; larger ones get 413")
    long max__request__size() default 50L * 1024 * 1024;

    @AttributeDefinition(description = "Most recipients in one request")
    int max__recipients() default 10_000;

    @AttributeDefinition(description = "Longest rendering of one template, in characters")
    int max__rendered__size() default 20 * 1024 * 1024;

    @AttributeDefinition(
        description =
            "Largest raw message in bytes; 0 for the max_message_size of the SMTP listener"
                + " 'default' (or the smallest listener's)")
    long max__raw__message__size() default 0;

    @AttributeDefinition(
        description = "Heap JSON requests in flight may take together; 0 for an eighth of the heap")
    long memory__budget() default 0;
  }

  /** What a raw message may be when neither this file nor any listener says. */
  static final long DEFAULT_MAX_MESSAGE_SIZE = 20L * 1024 * 1024;

  /** The limits in force and the injector that applies them. */
  record Current(Config config, Injector injector) {}

  private volatile Current current;
  private final MemoryBudget memory = new MemoryBudget(0);

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile List<LocalListener> listeners = List.of();

  @Activate
  @Modified
  void configure(Config config) {
    memory.limit(
        config.memory__budget() > 0
            ? config.memory__budget()
            : Runtime.getRuntime().maxMemory() / 8);
    current =
        new Current(
            config, new Injector(new MessageComposer(new Templates(config.max__rendered__size()))));
  }

  Current current() {
    return current;
  }

  MemoryBudget memory() {
    return memory;
  }

  /** The raw message limit: this file's, else the SMTP listener's, so both doors agree. */
  long maxRawMessageSize() {
    long configured = current.config().max__raw__message__size();
    if (configured > 0) {
      return configured;
    }
    long smallest = 0;
    for (LocalListener listener : listeners) {
      long size = listener.maxMessageSize();
      if (size <= 0) {
        continue;
      }
      if (listener.name().equals("default")) {
        return size;
      }
      smallest = smallest == 0 ? size : Math.min(smallest, size);
    }
    return smallest > 0 ? smallest : DEFAULT_MAX_MESSAGE_SIZE;
  }
}
