package org.postilion.http.inject;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

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
  }

  /** The limits in force and the injector that applies them. */
  record Current(Config config, Injector injector) {}

  private volatile Current current;

  @Activate
  @Modified
  void configure(Config config) {
    current =
        new Current(
            config, new Injector(new MessageComposer(new Templates(config.max__rendered__size()))));
  }

  Current current() {
    return current;
  }
}
