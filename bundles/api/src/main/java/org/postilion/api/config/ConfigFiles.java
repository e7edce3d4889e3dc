package org.postilion.api.config;

import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;

/** Names configurations the way operators know them: by their file in etc/. */
public final class ConfigFiles {
  private ConfigFiles() {}

  /** The cfg file's name where File Install made the configuration, else its PID. */
  public static String fileName(Map<String, Object> properties) {
    Object file = properties.get("felix.fileinstall.filename");
    if (file != null) {
      String path = file.toString();
      return path.substring(path.lastIndexOf('/') + 1);
    }
    return String.valueOf(properties.get("service.pid"));
  }

  /**
   * Parses a configuration file's settings. When they do not hold, the rejection is logged naming
   * the file (the message names the key) and the exception rethrown, so Declarative Services keeps
   * the component as it was: with the previous settings when there were any.
   *
   * @param hadPrevious whether a valid version of the file is in force
   */
  public static <T> T parseOrReject(
      Logger log, String file, boolean hadPrevious, Supplier<T> parser) {
    try {
      return parser.get();
    } catch (IllegalArgumentException e) {
      log.error(
          "{} rejected, {}{}",
          file,
          e.getMessage(),
          hadPrevious ? "; the previous setting stays in force" : "");
      throw e;
    }
  }

  /**
   * The name a factory configuration gives itself: {@code configured} when set, else the part of
   * {@code <factoryPid>-<name>.cfg} after the dash.
   */
  public static String instanceName(
      String configured, String factoryPid, Map<String, Object> properties) {
    if (configured != null && !configured.isBlank()) {
      return configured.trim();
    }
    String file = fileName(properties);
    String prefix = factoryPid + "-";
    if (file.startsWith(prefix) && file.endsWith(".cfg")) {
      return file.substring(prefix.length(), file.length() - ".cfg".length());
    }
    // Created without a file (Config Admin, the shell): Karaf names those factoryPid~name.
    Object pid = properties.get("service.pid");
    String text = String.valueOf(pid);
    int tilde = text.indexOf('~');
    return tilde >= 0 ? text.substring(tilde + 1) : text;
  }
}
