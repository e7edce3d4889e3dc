package org.postilion.events;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.event.EventListener;
import org.postilion.api.event.EventRecord;
import org.postilion.api.net.HttpHeaders;
import org.postilion.api.queue.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts event records to an HTTP endpoint as JSON arrays, configured by a file alone ({@code
 * etc/org.postilion.events.webhook-<name>.cfg}). Records go to an on-disk journal first and a
 * thread of its own sends them, so mail flow never waits for the endpoint; while it is down or
 * failing, records pile up on disk and are sent, in order, once it answers 2xx again.
 */
@Component(
    service = EventListener.class,
    // Durable, per configuration: records made while this bundle is stopped are sent when it
    // returns.
    property = EventListener.SUBSCRIBER + "=webhook",
    configurationPid = "org.postilion.events.webhook",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = EventWebhook.Config.class, factory = true)
public class EventWebhook implements EventListener {
  private static final Logger LOG = LoggerFactory.getLogger(EventWebhook.class);

  @ObjectClassDefinition(name = "Postilion event webhook", description = "Event records to HTTP")
  public @interface Config {
    @AttributeDefinition(description = "Where records are POSTed, http:// or https://")
    String url();

    @AttributeDefinition(description = "Record types to send, comma-separated; empty: all")
    String types() default "";

    @AttributeDefinition(description = "Most records in one POST")
    int batch__size() default 100;

    @AttributeDefinition(description = "Time for one POST to be answered")
    String timeout() default "10s";

    @AttributeDefinition(description = "Wait after the first failure; doubles up to retry.max")
    String retry_initial() default "1s";

    @AttributeDefinition(description = "Longest wait between attempts")
    String retry_max() default "5m";

    @AttributeDefinition(description = "Bearer token for Authorization")
    String auth_bearer() default "";

    @AttributeDefinition(description = "User for basic authentication")
    String auth_user() default "";

    @AttributeDefinition(description = "Password for basic authentication")
    String auth_password() default "";

    @AttributeDefinition(description = "Extra headers: 'Name: value', separated by ';'")
    String headers() default "";

    @AttributeDefinition(description = "Journal folder; empty: ${karaf.data}/events-webhook/<name>")
    String journal() default "";
  }

  private record Settings(
      URI url,
      Set<String> types,
      int batchSize,
      Duration timeout,
      Duration retryInitial,
      Duration retryMax,
      Map<String, String> headers) {}

  private final Semaphore wakeUp = new Semaphore(0);
  private Settings settings;
  private String name;
  private EventJournal journal;
  private HttpClient client;
  private Thread sender;
  private volatile boolean running;

  @Activate
  void activate(Config config, Map<String, Object> properties) throws IOException {
    name = nameOf(properties);
    settings = settings(config);
    Path folder =
        config.journal().isBlank()
            ? Path.of(System.getProperty("karaf.data", "data"), "events-webhook", name)
            : Path.of(config.journal());
    journal = new EventJournal(folder);
    client = HttpClient.newBuilder().connectTimeout(settings.timeout()).build();
    running = true;
    sender = DaemonThreads.of("postilion-events-webhook-" + name, this::sendLoop);
    sender.start();
    LOG.info(
        "Event webhook {}: {} records to {}, journal in {}",
        name,
        settings.types().isEmpty() ? "all" : settings.types(),
        settings.url(),
        folder);
  }

  /** The cfg file's suffix: {@code org.postilion.events.webhook-<name>.cfg}. */
  private static String nameOf(Map<String, Object> properties) {
    Object file = properties.get("felix.fileinstall.filename");
    if (file != null) {
      String text = file.toString();
      int dash = text.lastIndexOf("webhook-");
      if (dash >= 0 && text.endsWith(".cfg")) {
        return text.substring(dash + "webhook-".length(), text.length() - ".cfg".length());
      }
    }
    return String.valueOf(properties.get("service.pid")).replaceAll("[^A-Za-z0-9.-]", "_");
  }

  private static Settings settings(Config config) {
    URI url;
    try {
      url = URI.create(config.url().trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("url is not a URL: " + config.url(), e);
    }
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException("url must be http:// or https://: " + config.url());
    }
    Map<String, String> headers;
    try {
      headers = HttpHeaders.parse(config.headers());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key headers: " + e.getMessage(), e);
    }
    String authorization =
        HttpHeaders.authorization(config.auth_bearer(), config.auth_user(), config.auth_password());
    if (authorization != null) {
      headers.put("Authorization", authorization);
    }
    Set<String> types =
        Stream.of(config.types().split(","))
            .map(String::trim)
            .filter(t -> !t.isEmpty())
            .map(t -> t.toLowerCase(Locale.ROOT))
            .collect(Collectors.toUnmodifiableSet());
    return new Settings(
        url,
        types,
        Math.max(1, config.batch__size()),
        Durations.parse(config.timeout()),
        Durations.parse(config.retry_initial()),
        Durations.parse(config.retry_max()),
        headers);
  }

  @Deactivate
  void deactivate() throws InterruptedException, IOException {
    running = false;
    sender.interrupt();
    sender.join(TimeUnit.SECONDS.toMillis(10));
    journal.close();
  }

  @Override
  public void onEvent(EventRecord record) {
    if (!settings.types().isEmpty()
        && !settings.types().contains(record.type().recordName().toLowerCase(Locale.ROOT))) {
      return;
    }
    try {
      journal.append(record.toJson());
      wakeUp.release();
    } catch (IOException e) {
      LOG.error("Event webhook {} cannot keep a {} record", name, record.type().recordName(), e);
    }
  }

  private void sendLoop() {
    Duration backoff = settings.retryInitial();
    boolean failing = false;
    long failedSince = 0;
    while (running) {
      try {
        EventJournal.Batch batch = journal.read(settings.batchSize());
        if (batch.records().isEmpty()) {
          wakeUp.drainPermits();
          // Records appended between the read and the drain wake us within the second.
          wakeUp.tryAcquire(1, TimeUnit.SECONDS);
          continue;
        }
        String problem = post(batch);
        if (problem == null) {
          journal.acknowledge(batch);
          if (failing) {
            LOG.info(
                "Event webhook {} reaches {} again after {} s",
                name,
                settings.url(),
                (System.nanoTime() - failedSince) / 1_000_000_000L);
          }
          failing = false;
          backoff = settings.retryInitial();
          continue;
        }
        if (!failing) {
          LOG.warn(
              "Event webhook {} cannot deliver to {} ({}); records wait in the journal and are"
                  + " retried",
              name,
              settings.url(),
              problem);
          failing = true;
          failedSince = System.nanoTime();
        }
        Thread.sleep(backoff.toMillis());
        backoff = backoff.multipliedBy(2);
        if (backoff.compareTo(settings.retryMax()) > 0) {
          backoff = settings.retryMax();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (IOException | RuntimeException e) {
        LOG.error("Event webhook {} cannot read its journal; trying again in a minute", name, e);
        try {
          Thread.sleep(60_000);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** POSTs the batch as a JSON array; returns why it failed, or {@code null} on a 2xx. */
  private String post(EventJournal.Batch batch) throws InterruptedException {
    String body = "[" + String.join(",", batch.records()) + "]";
    HttpRequest.Builder request =
        HttpRequest.newBuilder(settings.url())
            .timeout(settings.timeout())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    settings.headers().forEach(request::header);
    try {
      HttpResponse<String> response =
          client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 == 2) {
        return null;
      }
      String snippet = response.body();
      return "HTTP "
          + response.statusCode()
          + (snippet.isBlank() ? "" : ": " + snippet.substring(0, Math.min(200, snippet.length())));
    } catch (IOException e) {
      return e.toString();
    }
  }
}
