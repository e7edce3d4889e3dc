package org.postilion.cluster;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postilion.api.queue.Durations;

/**
 * {@code etc/org.postilion.cluster.cfg}, checked: where Redis is and how to reach it, this node's
 * name, and what each node keeps to while Redis does not answer.
 *
 * @param endpoints Redis servers: the server, Sentinels or Cluster seed nodes
 * @param tls whether the URLs say {@code rediss://}
 * @param user from the first URL's user info, or null
 * @param password from the first URL's user info, or null
 * @param database the standalone server's database number (the URL's path)
 */
record ClusterSettings(
    String mode,
    List<Endpoint> endpoints,
    boolean tls,
    String user,
    String password,
    int database,
    String sentinelMaster,
    String nodeName,
    int fallbackNodes,
    Duration timeout,
    Duration leaseTtl) {

  record Endpoint(String host, int port) {
    @Override
    public String toString() {
      return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
  }

  /** The Redis URLs as an operator may show them: no credentials. */
  String describe() {
    StringBuilder text = new StringBuilder(tls ? "rediss://" : "redis://");
    for (int i = 0; i < endpoints.size(); i++) {
      text.append(i == 0 ? "" : ",").append(endpoints.get(i));
    }
    if (database != 0) {
      text.append('/').append(database);
    }
    return text.toString();
  }

  static ClusterSettings parse(
      String urls,
      String mode,
      String sentinelMaster,
      String nodeName,
      String fallbackNodes,
      String timeout,
      String leaseTtl,
      String defaultNodeName) {
    String kind = mode.isBlank() ? "standalone" : mode.trim().toLowerCase(Locale.ROOT);
    if (!List.of("standalone", "sentinel", "cluster").contains(kind)) {
      throw new IllegalArgumentException(
          "key redis.mode: write standalone, sentinel or cluster, not '" + mode + "'");
    }
    if (urls.isBlank()) {
      throw new IllegalArgumentException(
          "key redis.url: give the Redis server, e.g. redis://127.0.0.1:6379");
    }
    List<Endpoint> endpoints = new ArrayList<>();
    Boolean tls = null;
    String user = null;
    String password = null;
    int database = 0;
    for (String part : urls.split(",")) {
      URI uri;
      try {
        uri = new URI(part.trim());
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("key redis.url: not a URL: '" + part.trim() + "'", e);
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("redis") && !scheme.equals("rediss")) {
        throw new IllegalArgumentException(
            "key redis.url: write redis://host:port or rediss://host:port, not '"
                + part.trim()
                + "'");
      }
      if (tls != null && tls != scheme.equals("rediss")) {
        throw new IllegalArgumentException("key redis.url: mixes redis:// and rediss://");
      }
      tls = scheme.equals("rediss");
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("key redis.url: no host in '" + part.trim() + "'");
      }
      int port = uri.getPort() == -1 ? (kind.equals("sentinel") ? 26379 : 6379) : uri.getPort();
      endpoints.add(new Endpoint(uri.getHost().replace("[", "").replace("]", ""), port));
      if (endpoints.size() == 1) {
        if (uri.getRawUserInfo() != null) {
          String info = uri.getRawUserInfo();
          int colon = info.indexOf(':');
          if (colon < 0) {
            password = decode(info);
          } else {
            user = colon == 0 ? null : decode(info.substring(0, colon));
            password = decode(info.substring(colon + 1));
          }
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replace("/", "");
        if (!path.isEmpty()) {
          try {
            database = Integer.parseInt(path);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                "key redis.url: the path is a database number, not '" + path + "'", e);
          }
        }
      }
    }
    if (kind.equals("standalone") && endpoints.size() > 1) {
      throw new IllegalArgumentException(
          "key redis.url: one server in standalone mode; several are for redis.mode = sentinel or cluster");
    }
    if (kind.equals("sentinel") && sentinelMaster.isBlank()) {
      throw new IllegalArgumentException(
          "key redis.sentinel.master: name the master the Sentinels watch, e.g. mymaster");
    }
    String name = nodeName.isBlank() ? defaultNodeName : nodeName.trim();
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(
          "key node.name: letters, digits, '.', '_' and '-', at most 64: '" + name + "'");
    }
    return new ClusterSettings(
        kind,
        List.copyOf(endpoints),
        tls,
        user,
        password,
        database,
        sentinelMaster.trim(),
        name,
        positive("fallback.nodes", fallbackNodes),
        duration("redis.timeout", timeout),
        duration("lease.ttl", leaseTtl));
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }

  private static int positive(String key, String value) {
    try {
      int number = Integer.parseInt(value.trim());
      if (number >= 1) {
        return number;
      }
    } catch (NumberFormatException e) {
      // refused below, with the key named
    }
    throw new IllegalArgumentException(
        "key " + key + ": a whole number of at least 1, not '" + value + "'");
  }

  private static Duration duration(String key, String value) {
    Duration duration;
    try {
      duration = Durations.parse(value.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key " + key + ": " + e.getMessage(), e);
    }
    if (duration.toMillis() < 1 || duration.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException(
          "key " + key + ": between 1ms and 1h, not '" + value + "'");
    }
    return duration;
  }
}
