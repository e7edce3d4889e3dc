package org.postilion.queue;

import java.util.Map;

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
