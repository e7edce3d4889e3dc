package org.postilion.cluster;

import io.prometheus.metrics.core.metrics.Histogram;
import java.time.Clock;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.postilion.api.cluster.ClusterStatus;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.shaping.Rate;
import org.postilion.cluster.ClusterSettings.Endpoint;
import org.postilion.cluster.LimitScripts.Script;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.JedisSentineled;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The shared limits in one Redis (a server, a Sentinel-watched master or a Cluster), through Jedis.
 * One thread of its own connects, checks each second that Redis answers, and renews this node's
 * connection leases. Once a call fails, every call is refused at once (callers fall back to their
 * share) until that thread hears Redis again; the change is logged once each way.
 */
final class RedisLimits implements SharedLimits, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisLimits.class);

  /** Every key Postilion writes starts with this. */
  static final String PREFIX = "postilion:limit:";

  private final ClusterSettings settings;
  private final String nodeId;
  private final Clock clock;

  /** KumoMTA's redis_operation_latency{service, operation, status}; null in tests. */
  private final Histogram latency;

  private final ScheduledExecutorService timer;
  private final Set<RedisLease> leases = ConcurrentHashMap.newKeySet();
  private final AtomicLong leaseNumber = new AtomicLong();
  private final AtomicLong lastRefusalLog =
      new AtomicLong(System.nanoTime() - TimeUnit.HOURS.toNanos(1));

  /** Null until the first connection succeeds (a Sentinel or a Cluster is asked at once). */
  private volatile UnifiedJedis redis;

  private volatile boolean available;

  // Guarded by this.
  private Instant since;
  private boolean reported;
  private boolean closed;
  private boolean retired;

  RedisLimits(ClusterSettings settings, String nodeId, Clock clock, Histogram latency) {
    this.settings = settings;
    this.nodeId = nodeId;
    this.clock = clock;
    this.latency = latency;
    this.since = clock.instant();
    this.timer =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("postilion-cluster-redis"));
    timer.scheduleWithFixedDelay(this::check, 0, 1, TimeUnit.SECONDS);
    long renewal = Math.max(1, settings.leaseTtl().toMillis() / 3);
    timer.scheduleWithFixedDelay(this::renew, renewal, renewal, TimeUnit.MILLISECONDS);
  }

  @Override
  public String nodeName() {
    return settings.nodeName();
  }

  @Override
  public boolean available() {
    return available;
  }

  @Override
  public synchronized ClusterStatus status() {
    return new ClusterStatus(
        nodeId,
        settings.nodeName(),
        settings.describe(),
        settings.mode(),
        available,
        since,
        settings.fallbackNodes(),
        leases.size());
  }

  @Override
  public long reserve(String key, Rate rate) {
    long micros = Math.max(1, rate.intervalNanos() / 1000);
    // Slots booked ahead cover every waiting thread of every node, up to 64 intervals or a minute,
    // whichever is longer, so that a rate an operator raised applies soon.
    long ahead = Math.max(TimeUnit.MINUTES.toMicros(1), 64 * micros);
    Object wait = run(LimitScripts.RESERVE, key, Long.toString(micros), Long.toString(ahead));
    return TimeUnit.MICROSECONDS.toNanos(((Number) wait).longValue());
  }

  @Override
  public Lease acquire(String key, int limit) {
    String id = settings.nodeName() + ":" + nodeId + ":" + leaseNumber.incrementAndGet();
    Object granted =
        run(
            LimitScripts.ACQUIRE,
            key,
            Integer.toString(limit),
            id,
            Long.toString(settings.leaseTtl().toMillis()));
    if (((Number) granted).longValue() != 1) {
      return null;
    }
    RedisLease lease = new RedisLease(key, id);
    leases.add(lease);
    return lease;
  }

  @Override
  public int fallback(int limit) {
    return Math.max(1, (limit + settings.fallbackNodes() - 1) / settings.fallbackNodes());
  }

  @Override
  public Rate fallback(Rate rate) {
    return new Rate(rate.count(), rate.period().multipliedBy(settings.fallbackNodes()));
  }

  private Object run(Script script, String key, String... args) {
    UnifiedJedis client = redis;
    if (!available || client == null) {
      throw new Unavailable("Redis at " + settings.describe() + " does not answer", null);
    }
    List<String> keys = List.of(PREFIX + key);
    long started = System.nanoTime();
    try {
      Object result;
      try {
        result = client.evalsha(script.sha(), keys, List.of(args));
      } catch (JedisNoScriptException e) {
        // The first call since Redis started: send the script itself, which Redis then keeps.
        result = client.eval(script.text(), keys, List.of(args));
      }
      observe("script", "ok", started);
      return result;
    } catch (JedisDataException e) {
      // Redis answered, with an error (ACL, OOM, read-only replica): not away, but no limit either.
      observe("script", "error", started);
      refused(e);
      throw new Unavailable("Redis at " + settings.describe() + " refused: " + e.getMessage(), e);
    } catch (JedisException e) {
      observe("script", "error", started);
      down(e);
      throw new Unavailable("Redis at " + settings.describe() + " does not answer", e);
    }
  }

  /** Logs a refusal at most once a minute: each call meanwhile keeps to this node's share. */
  private void refused(JedisDataException e) {
    long now = System.nanoTime();
    long last = lastRefusalLog.get();
    if (now - last > TimeUnit.MINUTES.toNanos(1) && lastRefusalLog.compareAndSet(last, now)) {
      LOG.error(
          "Redis at {} refuses the shared limits' scripts ({}): this node keeps to 1/{} of each"
              + " until it takes them",
          settings.describe(),
          e.getMessage(),
          settings.fallbackNodes());
    }
  }

  private void observe(String operation, String status, long started) {
    if (latency != null) {
      latency
          .labelValues(settings.describe(), operation, status)
          .observe((System.nanoTime() - started) / 1e9);
    }
  }

  /** On the cluster thread: connects when not yet connected and checks that Redis answers. */
  private void check() {
    try {
      UnifiedJedis client = redis;
      if (client == null) {
        client = connect(settings);
        synchronized (this) {
          if (closed) {
            client.close();
            return;
          }
          redis = client;
        }
      }
      long started = System.nanoTime();
      try {
        client.ping();
      } catch (JedisException e) {
        observe("ping", "error", started);
        throw e;
      }
      observe("ping", "ok", started);
      up();
    } catch (JedisException e) {
      down(e);
    } catch (RuntimeException e) {
      // Not Redis's answer but ours: say so, and keep checking.
      LOG.error("Checking Redis at {} failed", settings.describe(), e);
      down(e);
    }
  }

  /**
   * Replaced by a new configuration: takes no new calls from its owner, but keeps renewing the
   * leases of sessions still open and closes once the last is given back.
   */
  void retire() {
    synchronized (this) {
      retired = true;
    }
    if (leases.isEmpty()) {
      close();
    }
  }

  /** On the cluster thread: extends every lease this node holds before it expires. */
  private void renew() {
    boolean finished;
    synchronized (this) {
      finished = retired && leases.isEmpty();
    }
    if (finished) {
      close();
      return;
    }
    UnifiedJedis client = redis;
    if (!available || client == null) {
      return;
    }
    String ttl = Long.toString(settings.leaseTtl().toMillis());
    int lost = 0;
    for (RedisLease lease : new HashSet<>(leases)) {
      try {
        if (Long.valueOf(0).equals(run(LimitScripts.RENEW, lease.key, lease.id, ttl))) {
          lease.lost = true;
          leases.remove(lease);
          lost++;
        }
      } catch (Unavailable e) {
        break;
      }
    }
    if (lost > 0) {
      LOG.warn(
          "Redis at {} no longer has {} connection leases of this node (restarted without"
              + " persistence?): their sessions end after their current message and the next ones"
              + " take new leases",
          settings.describe(),
          lost);
    }
  }

  private void up() {
    synchronized (this) {
      if (available) {
        return;
      }
      available = true;
      since = clock.instant();
      reported = false;
    }
    LOG.info(
        "Redis at {} answers: limits marked shared hold across the cluster (node {})",
        settings.describe(),
        settings.nodeName());
  }

  private void down(Exception cause) {
    synchronized (this) {
      if (!available && reported) {
        return;
      }
      if (available) {
        since = clock.instant();
      }
      available = false;
      reported = true;
    }
    LOG.warn(
        "Redis at {} does not answer ({}): until it does, this node keeps to 1/{} of each shared"
            + " limit",
        settings.describe(),
        cause.toString(),
        settings.fallbackNodes());
  }

  static UnifiedJedis connect(ClusterSettings settings) {
    int timeout = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
    DefaultJedisClientConfig.Builder builder =
        DefaultJedisClientConfig.builder()
            .connectionTimeoutMillis(timeout)
            .socketTimeoutMillis(timeout)
            .ssl(settings.tls())
            .clientName("postilion-" + settings.nodeName());
    if (settings.user() != null) {
      builder.user(settings.user());
    }
    if (settings.password() != null) {
      builder.password(settings.password());
    }
    if (settings.mode().equals("standalone")) {
      builder.database(settings.database());
    }
    JedisClientConfig client = builder.build();
    GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
    // Every ready queue thread may ask at once; a call waits at most the timeout for a connection.
    pool.setMaxTotal(128);
    pool.setMaxIdle(32);
    pool.setMaxWait(settings.timeout());
    pool.setJmxEnabled(false);
    Set<HostAndPort> nodes = new HashSet<>();
    for (Endpoint endpoint : settings.endpoints()) {
      nodes.add(new HostAndPort(endpoint.host(), endpoint.port()));
    }
    return switch (settings.mode()) {
      case "sentinel" ->
          new JedisSentineled(
              settings.sentinelMaster(),
              client,
              pool,
              nodes,
              DefaultJedisClientConfig.builder()
                  .connectionTimeoutMillis(timeout)
                  .socketTimeoutMillis(timeout)
                  .build());
      case "cluster" -> new JedisCluster(nodes, client, pool);
      default -> new JedisPooled(nodes.iterator().next(), client, pool);
    };
  }

  @Override
  public void close() {
    UnifiedJedis client;
    synchronized (this) {
      closed = true;
      client = redis;
    }
    timer.shutdownNow();
    if (client != null) {
      // Leases of sessions still open expire by themselves within lease.ttl.
      client.close();
    }
  }

  /** A lease this node holds: renewed by the cluster thread until closed. */
  private final class RedisLease implements Lease {
    private final String key;
    private final String id;
    private volatile boolean lost;

    RedisLease(String key, String id) {
      this.key = key;
      this.id = id;
    }

    @Override
    public boolean held() {
      return !lost;
    }

    @Override
    public void close() {
      if (!leases.remove(this)) {
        return;
      }
      UnifiedJedis client = redis;
      if (!available || client == null) {
        return;
      }
      try {
        client.zrem(PREFIX + key, id);
      } catch (JedisException e) {
        down(e);
      }
    }
  }
}
