package org.postilion.camel;

import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultRegistry;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.queue.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's one CamelContext, with Camel's own class loader (the embedded jars, where Camel
 * finds its components, languages and DSL loaders), OSGi services with a {@code name} property as
 * beans, and the policy routes of {@code etc/routes/*.yaml}, followed as the files change. The
 * context is offered as a service to the hooks and protocol bundles.
 */
@Component(immediate = true, configurationPid = "org.postilion.camel")
@Designate(ocd = CamelRuntime.Config.class)
public class CamelRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(CamelRuntime.class);

  @ObjectClassDefinition(name = "Postilion Camel", description = "Policy routes")
  public @interface Config {
    @AttributeDefinition(description = "Folder of YAML route files; empty: ${karaf.etc}/routes")
    String routes() default "";

    @AttributeDefinition(description = "How often the folder is checked for changes")
    String scan__interval() default "2s";
  }

  private CamelContext camel;
  private ProducerTemplate producer;
  private ServiceRegistration<CamelContext> registration;
  private ServiceRegistration<ProducerTemplate> producerRegistration;
  private ScheduledExecutorService scanner;

  @Activate
  void activate(BundleContext bundles, Config config) {
    Path folder =
        config.routes().isBlank()
            ? Path.of(System.getProperty("karaf.etc", "etc"), "routes")
            : Path.of(config.routes());
    ClassLoader camelLoader = CamelRuntime.class.getClassLoader();
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(camelLoader);
    try {
      DefaultCamelContext context =
          new DefaultCamelContext(new DefaultRegistry(new OsgiServiceBeans(bundles)));
      context.getCamelContextExtension().setName("postilion");
      context.setApplicationContextClassLoader(camelLoader);
      context.start();
      camel = context;
    } finally {
      thread.setContextClassLoader(previous);
    }
    RouteFiles files = new RouteFiles(camel, folder);
    scanner =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread scan = new Thread(task, "postilion-camel-routes");
              scan.setDaemon(true);
              scan.setContextClassLoader(camelLoader);
              return scan;
            });
    long interval = Durations.parse(config.scan__interval()).toMillis();
    // The first scan runs before the context is offered, so hooks see the routes from the start.
    try {
      scanner.submit(files::sync).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.error("Loading the routes in {} failed", folder, e.getCause());
    }
    scanner.scheduleWithFixedDelay(files::sync, interval, interval, TimeUnit.MILLISECONDS);
    Dictionary<String, Object> properties = new Hashtable<>();
    properties.put("name", "postilion");
    registration = bundles.registerService(CamelContext.class, camel, properties);
    // One template for the hooks and protocols: templates are thread-safe and meant to be shared.
    producer = camel.createProducerTemplate();
    producerRegistration = bundles.registerService(ProducerTemplate.class, producer, properties);
    LOG.info("Camel {} started; routes from {}", camel.getVersion(), folder);
  }

  @Deactivate
  void deactivate() {
    producerRegistration.unregister();
    registration.unregister();
    try {
      producer.close();
    } catch (Exception e) {
      LOG.warn("Closing the producer template failed", e);
    }
    scanner.shutdownNow();
    camel.stop();
  }
}
