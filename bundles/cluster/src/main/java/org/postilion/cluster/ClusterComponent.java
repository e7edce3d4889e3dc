package org.postilion.cluster;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.cluster.ClusterStatus;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.config.LocalHost;
import org.postilion.api.config.NodeId;
import org.postilion.api.metrics.MetricSet;
import org.postilion.api.shaping.Rate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code etc/org.postilion.cluster.cfg}: this node joins a cluster whose shared limits live in
 * Redis. Without the file there is no such service and every limit is the node's own. An edit that
 * does not parse is refused, naming the file and key, and the previous settings stay.
 */
@Component(
    service = SharedLimits.class,
    immediate = true,
    configurationPid = "org.postilion.cluster",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ClusterComponent.Config.class)
public class ClusterComponent implements SharedLimits {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterComponent.class);

  @ObjectClassDefinition(
      name = "Postilion cluster",
      description =
          "Redis that keeps the limits shared by the cluster's nodes, and this node's name")
  public @interface Config {
    @AttributeDefinition(
        description =
            "redis://[user:password@]host:port[/db], rediss:// for TLS; a comma-separated list for"
                + " Sentinels or Cluster seed nodes")
    String redis_url() default "";

    @AttributeDefinition(description = "standalone, sentinel or cluster")
    String redis_mode() default "standalone";

    @AttributeDefinition(description = "With redis.mode = sentinel: the master's name")
    String redis_sentinel_master() default "";

    @AttributeDefinition(description = "Longest wait for Redis per call, e.g. 500ms")
    String redis_timeout() default "1s";

    @AttributeDefinition(description = "This node's name in the cluster (default: the host name)")
    String node_name() default "";

    @AttributeDefinition(
        description = "Nodes sharing the limits: each keeps to 1/N of them while Redis is away")
    String fallback_nodes() default "2";

    @AttributeDefinition(description = "A connection lease of a node that died expires after this")
    String lease_ttl() default "30s";
  }

  private volatile RedisLimits limits;

  private final MetricSet metrics = new MetricSet();
  private Histogram latency;
  private Gauge node;

  @Activate
  @Modified
  void activate(Config config, Map<String, Object> properties) {
    String file = ConfigFiles.fileName(properties);
    ClusterSettings settings =
        ConfigFiles.parseOrReject(
            LOG,
            file,
            limits != null,
            () ->
                ClusterSettings.parse(
                    config.redis_url(),
                    config.redis_mode(),
                    config.redis_sentinel_master(),
                    config.node_name(),
                    config.fallback_nodes(),
                    config.redis_timeout(),
                    config.lease_ttl(),
                    LocalHost.name()));
    String nodeId = NodeId.in(Path.of(System.getProperty("karaf.data", "data")));
    RedisLimits previous = limits;
    if (latency == null) {
      latency =
          metrics.latency(
              "redis_operation_latency",
              "The latency of an operation talking to Redis",
              "service",
              "operation",
              "status");
    }
    if (node == null) {
      node =
          metrics.gauge(
              "node_info", "1 for this node, labelled with its id and name", "nodeid", "node_name");
    }
    node.clear();
    node.labelValues(nodeId, settings.nodeName()).set(1);
    limits = new RedisLimits(settings, nodeId, Clock.systemUTC(), latency);
    if (previous != null) {
      // Its sessions' leases stay renewed until those sessions end.
      previous.retire();
    }
    LOG.info(
        "Node {} ({}) keeps shared limits in Redis at {} ({}); 1/{} of each while Redis is away",
        settings.nodeName(),
        nodeId,
        settings.describe(),
        settings.mode(),
        settings.fallbackNodes());
  }

  @Deactivate
  void deactivate() {
    RedisLimits current = limits;
    limits = null;
    if (current != null) {
      current.close();
    }
    metrics.close();
  }

  private RedisLimits limits() {
    RedisLimits current = limits;
    if (current == null) {
      throw new Unavailable("the cluster component is stopping", null);
    }
    return current;
  }

  @Override
  public String nodeName() {
    return limits().nodeName();
  }

  @Override
  public boolean available() {
    RedisLimits current = limits;
    return current != null && current.available();
  }

  @Override
  public ClusterStatus status() {
    return limits().status();
  }

  @Override
  public long reserve(String key, Rate rate) {
    return limits().reserve(key, rate);
  }

  @Override
  public Lease acquire(String key, int limit) {
    return limits().acquire(key, limit);
  }

  @Override
  public int fallback(int limit) {
    RedisLimits current = limits;
    return current == null ? limit : current.fallback(limit);
  }

  @Override
  public Rate fallback(Rate rate) {
    RedisLimits current = limits;
    return current == null ? rate : current.fallback(rate);
  }
}
