package org.postilion.bounce.classify;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.bounce.BounceClassifier;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.delivery.Response;
import org.postilion.api.metrics.MetricSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounce classifier of the server: every {@code *.toml} rules file of a folder (by default
 * {@code etc/bounce-classifier/}), in the order of their names, first match wins. The folder is
 * looked at every two seconds: a changed, added or removed file is in force at once; a file with a
 * mistake is refused with its name and line, and the rules in force stay.
 */
@Component(
    service = BounceClassifier.class,
    immediate = true,
    configurationPid = ClassifierComponent.PID)
@Designate(ocd = ClassifierComponent.Config.class)
public class ClassifierComponent implements BounceClassifier {
  static final String PID = "org.postilion.bounce.classifier";
  private static final Logger LOG = LoggerFactory.getLogger(ClassifierComponent.class);

  @ObjectClassDefinition(
      name = "Postilion bounce classifier",
      description = "Regular expression rules per bounce class, in KumoMTA's TOML shape")
  public @interface Config {
    @AttributeDefinition(
        description = "Folder of *.toml rules files; relative paths are under ${karaf.etc}")
    String rules__folder() default "bounce-classifier";

    @AttributeDefinition(description = "Classified reply lines remembered")
    int cache__size() default 1024;

    @AttributeDefinition(description = "Uncategorized reply lines remembered")
    int uncategorized__cache__size() default 1024;
  }

  record Settings(Path folder, int cacheSize, int uncategorizedCacheSize) {}

  private volatile RulesClassifier classifier = new RulesClassifier(List.of(), 1, 1);
  private Settings settings;
  private Map<String, String> seen = Map.of();
  private ScheduledExecutorService scanner;
  private final MetricSet metrics = new MetricSet();
  private final Histogram latency =
      metrics.latency("bounce_classify_latency", "latency of bounce classification");
  private final Gauge refused =
      metrics.gauge(
          "bounce_rules_refused",
          "1 while the rules files on disk are refused and older rules stay in force");
  private volatile String refusal;

  @Activate
  void activate(Config config, Map<String, Object> properties) {
    try {
      settings =
          ConfigFiles.parseOrReject(
              LOG, ConfigFiles.fileName(properties), false, () -> settings(config));
    } catch (IllegalArgumentException e) {
      metrics.close(); // not activated: no deactivate will give the histogram back
      throw e;
    }
    scanner =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("postilion-bounce-rules"));
    rescan();
    scanner.scheduleWithFixedDelay(this::rescan, 2, 2, TimeUnit.SECONDS);
  }

  @Deactivate
  void deactivate() {
    scanner.shutdownNow();
    metrics.close();
  }

  static Settings settings(Config config) {
    if (config.cache__size() < 0) {
      throw new IllegalArgumentException("cache_size must be 0 or more: " + config.cache__size());
    }
    if (config.uncategorized__cache__size() < 0) {
      throw new IllegalArgumentException(
          "uncategorized_cache_size must be 0 or more: " + config.uncategorized__cache__size());
    }
    if (config.rules__folder().isBlank()) {
      throw new IllegalArgumentException("rules_folder must name a folder");
    }
    Path folder = Path.of(System.getProperty("karaf.etc", "etc")).resolve(config.rules__folder());
    return new Settings(folder, config.cache__size(), config.uncategorized__cache__size());
  }

  /** Why the rules files on disk were refused, while older rules stay in force; else null. */
  String refusal() {
    return refusal;
  }

  /** The files on disk are refused for {@code why}, or, with null, in force. */
  private void refuse(String why) {
    refusal = why;
    refused.set(why == null ? 0 : 1);
  }

  @Override
  public String classify(Response response) {
    long started = System.nanoTime();
    try {
      return classifier.classify(response);
    } finally {
      latency.observe((System.nanoTime() - started) / 1e9);
    }
  }

  private void rescan() {
    try {
      Map<String, String> now = fingerprint(settings.folder());
      if (!now.equals(seen)) {
        seen = now;
        load(now.keySet());
      }
    } catch (IOException | RuntimeException e) {
      LOG.error(
          "Cannot read the bounce rules in {}; the rules in force stay", settings.folder(), e);
      refuse("cannot read the rules in " + settings.folder() + ": " + e);
    }
  }

  private void load(Iterable<String> names) throws IOException {
    List<RulesFile.Rule> rules = new ArrayList<>();
    for (String name : names) {
      Path file = settings.folder().resolve(name);
      String text = Files.readString(file, StandardCharsets.UTF_8);
      try {
        rules.addAll(RulesFile.parse(file.toString(), text));
      } catch (IllegalArgumentException e) {
        LOG.error("Bounce rules refused: {}; the rules in force stay", e.getMessage());
        refuse(e.getMessage());
        return;
      }
    }
    RulesClassifier loaded =
        new RulesClassifier(rules, settings.cacheSize(), settings.uncategorizedCacheSize());
    refuse(null);
    classifier = loaded;
    LOG.info("Bounce classifier: {} rules from {} in {}", rules.size(), names, settings.folder());
  }

  /** The rules files by name, each with what tells a change: its size and modification time. */
  private static Map<String, String> fingerprint(Path folder) throws IOException {
    Map<String, String> files = new TreeMap<>();
    if (!Files.isDirectory(folder)) {
      return files;
    }
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(folder, "*.toml")) {
      for (Path file : listing) {
        if (Files.isRegularFile(file)) {
          files.put(
              file.getFileName().toString(),
              Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis());
        }
      }
    }
    return files;
  }
}
