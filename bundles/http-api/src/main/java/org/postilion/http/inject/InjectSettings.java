package org.postilion.http.inject;

import java.time.Duration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.queue.Durations;
import org.postilion.http.inject.pebble.RenderBudget;
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
  }

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

  @Activate
  @Modified
  void configure(Config config) {
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
}
