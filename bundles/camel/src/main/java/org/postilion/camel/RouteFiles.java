package org.postilion.camel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.camel.CamelContext;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of a folder of YAML files ({@code etc/routes/*.yaml}), kept in step with the files: a
 * new or changed file replaces only its own routes, a removed file takes its routes away, and a
 * file that does not parse or whose routes do not start is logged with its name and the routes it
 * had keep running.
 */
final class RouteFiles {
  private static final Logger LOG = LoggerFactory.getLogger(RouteFiles.class);

  private final CamelContext camel;
  private final Path folder;
  private final Map<Path, FileTime> versions = new HashMap<>();
  private final Map<Path, List<RouteDefinition>> routes = new HashMap<>();

  RouteFiles(CamelContext camel, Path folder) {
    this.camel = camel;
    this.folder = folder;
  }

  /**
   * Applies what changed in the folder since the last call. Never throws: it runs on a schedule
   * that an exception would end.
   */
  synchronized void sync() {
    try {
      applyChanges();
    } catch (RuntimeException e) {
      LOG.error("Following the route files in {} failed; trying again at the next scan", folder, e);
    }
  }

  private void applyChanges() {
    Map<Path, FileTime> now = new HashMap<>();
    if (Files.isDirectory(folder)) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.yaml")) {
        for (Path file : files) {
          now.put(file, Files.getLastModifiedTime(file));
        }
      } catch (IOException e) {
        LOG.warn("Cannot list the route files in {}", folder, e);
        return;
      }
    }
    for (Path gone : new HashSet<>(versions.keySet())) {
      if (!now.containsKey(gone)) {
        remove(gone);
        versions.remove(gone);
      }
    }
    now.forEach(
        (file, version) -> {
          if (!version.equals(versions.get(file))) {
            versions.put(file, version);
            load(file);
          }
        });
  }

  private void load(Path file) {
    List<RouteDefinition> parsed;
    try {
      parsed = parse(file);
    } catch (Exception e) {
      LOG.error(
          "Routes in {} not loaded, {} kept: {}",
          file,
          routes.containsKey(file) ? "the ones loaded before are" : "none are",
          describe(e));
      return;
    }
    List<RouteDefinition> previous = routes.getOrDefault(file, List.of());
    Model model = camel.getCamelContextExtension().getContextPlugin(Model.class);
    try {
      model.removeRouteDefinitions(previous);
      model.addRouteDefinitions(parsed);
    } catch (Exception e) {
      LOG.error("Routes in {} do not start, the ones before are kept: {}", file, describe(e));
      try {
        model.removeRouteDefinitions(parsed);
        model.addRouteDefinitions(previous);
      } catch (Exception again) {
        LOG.error("Routes of {} could not be restored", file, again);
      }
      return;
    }
    routes.put(file, parsed);
    LOG.info(
        "Routes of {} in force: {}",
        file.getFileName(),
        parsed.stream().map(RouteDefinition::getRouteId).toList());
  }

  /** Parses the file into route definitions; ids default to {@code <file name>-<n>}. */
  private List<RouteDefinition> parse(Path file) throws Exception {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Resource resource = ResourceHelper.fromString("file:" + file.toAbsolutePath(), text);
    List<RouteDefinition> definitions = new ArrayList<>();
    for (RoutesBuilder builder : PluginHelper.getRoutesLoader(camel).findRoutesBuilders(resource)) {
      if (builder instanceof RouteBuilder routeBuilder) {
        definitions.addAll(routeBuilder.configureRoutes(camel).getRoutes());
      }
    }
    String base = file.getFileName().toString().replaceFirst("\\.yaml$", "");
    Set<String> taken = new HashSet<>();
    int n = 0;
    for (RouteDefinition definition : definitions) {
      n++;
      if (definition.getRouteId() == null || definition.getRouteId().isBlank()) {
        definition.setId(base + "-" + n);
      }
      if (!taken.add(definition.getRouteId())) {
        throw new IllegalArgumentException("two routes with the id " + definition.getRouteId());
      }
    }
    return definitions;
  }

  private void remove(Path file) {
    List<RouteDefinition> previous = routes.remove(file);
    if (previous == null) {
      return;
    }
    try {
      camel
          .getCamelContextExtension()
          .getContextPlugin(Model.class)
          .removeRouteDefinitions(previous);
      LOG.info("Routes of {} removed with the file", file.getFileName());
    } catch (Exception e) {
      LOG.error("Routes of the removed file {} could not be stopped", file, e);
    }
  }

  /** The exception's messages down to the cause, where YAML errors name the line. */
  private static String describe(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (text.length() > 0) {
        text.append(" <- ");
      }
      text.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
    }
    return text.toString();
  }
}
