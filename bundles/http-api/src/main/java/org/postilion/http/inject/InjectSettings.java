package org.postilion.http.inject;

import java.time.Duration;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.queue.Durations;
import org.postilion.api.reception.LocalListener;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.web.MemoryBudget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The injection limits of {@code etc/org.postilion.http.inject.cfg}, the injector built for them
 * and the threads that render. A component of its own, so that editing the file changes them in
 * place: were they the servlet's own configuration, Pax Web would take the servlet down and up
 * again and injection would answer 404 for seconds.
 */
@Component(service = InjectSettings.class, configurationPid = "org.postilion.http.inject")
@Designate(ocd = InjectSettings.Config.class)
public class InjectSettings {
  private static final Logger LOG = LoggerFactory.getLogger(InjectSettings.class);

  @ObjectClassDefinition(
      name = "Postilion HTTP injection",
      description = "POST /api/inject/v1 and /api/inject/raw/v1")
  public @interface Config {
    @AttributeDefinition(description = "Largest request body in bytes; larger ones get 413")
    long max__request__size() default 50L * 1024 * 1024;

    @AttributeDefinition(description = "Most recipients in one request")
    int max__recipients() default 10_000;

    @AttributeDefinition(
        description =
            "Longest rendering of one template, and longest value one builds, in characters")
    int max__rendered__size() default 20 * 1024 * 1024;

    @AttributeDefinition(
        description = "How long the templates of one request may render, all recipients together")
    String render__timeout() default "10s";

    @AttributeDefinition(
        description = "Most loop passes and macro calls in one rendering of one template")
    long max__loop__iterations() default 100_000;

    @AttributeDefinition(description = "How many JSON injections render at once")
    int render__threads() default 4;

    @AttributeDefinition(
        description = "How many more may wait for a render thread; more are answered 503")
    int max__pending() default 100;

    @AttributeDefinition(
        description = "Longest wait for the answer to a JSON injection, queueing included")
    String request__timeout() default "60s";

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

  /** The limits in force, the injector that applies them and the render threads. */
  record Current(
      Config config,
      Injector injector,
      RenderPool pool,
      Duration renderTimeout,
      Duration requestTimeout) {

    /** A fresh budget for one request. */
    RenderBudget budget() {
      return new RenderBudget(
          renderTimeout, config.max__loop__iterations(), config.max__rendered__size());
    }
  }

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
    Current previous = current;
    current =
        new Current(
            config,
            new Injector(new MessageComposer(new Templates(config.max__rendered__size()))),
            new RenderPool(
                Math.max(1, config.render__threads()), Math.max(0, config.max__pending())),
            duration("render_timeout", config.render__timeout(), "10s"),
            duration("request_timeout", config.request__timeout(), "60s"));
    if (previous != null) {
      // Injections already accepted finish on the old threads.
      previous.pool().close();
    }
  }

  @Deactivate
  void deactivate() {
    current.pool().close();
  }

  private static Duration duration(String key, String value, String fallback) {
    try {
      Duration duration = Durations.parse(value);
      if (!duration.isNegative() && !duration.isZero()) {
        return duration;
      }
    } catch (IllegalArgumentException e) {
      LOG.error(
          "{} in org.postilion.http.inject.cfg: {}; {} is used", key, e.getMessage(), fallback);
      return Durations.parse(fallback);
    }
    LOG.error("{} in org.postilion.http.inject.cfg must be positive; {} is used", key, fallback);
    return Durations.parse(fallback);
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
