package org.postilion.cluster;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts that keep the shared limits atomic in Redis. Each touches one key (so they run on
 * a Redis Cluster too) and takes the time from Redis itself, so that the nodes' clocks need not
 * agree.
 */
final class LimitScripts {

  /** A script and its SHA-1, by which Redis runs it once it has seen it. */
  record Script(String text, String sha) {
    static Script of(String text) {
      try {
        byte[] digest =
            MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
        return new Script(text, HexFormat.of().formatHex(digest));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JVM has no SHA-1", e);
      }
    }
  }

  /**
   * GCRA as a reservation: the key holds the theoretical arrival time (microseconds) of the next
   * free slot; the caller takes it and is told how long to wait for it, and the next caller gets
   * the slot one interval later. ARGV[1]: the interval in microseconds; ARGV[2]: how far ahead
   * slots may be booked (so that a rate an operator raised applies within it). Returns the wait in
   * microseconds. The key expires a second after its last slot has passed.
   */
  static final Script RESERVE =
      Script.of(
          """
          local now = redis.call('TIME')
          local t = tonumber(now[1]) * 1000000 + tonumber(now[2])
          local interval = tonumber(ARGV[1])
          local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
          if tat < t then tat = t end
          if tat - t > tonumber(ARGV[2]) then tat = t + tonumber(ARGV[2]) end
          local ttl = math.floor((tat - t + interval) / 1000) + 1000
          redis.call('SET', KEYS[1], string.format('%.0f', tat + interval), 'PX', ttl)
          return tat - t
          """);

  /**
   * A lease under a limit: the key is a sorted set of lease ids scored by their expiry
   * (milliseconds); expired ones are dropped first. ARGV: the limit, the lease id, its lifetime in
   * milliseconds. Returns 1 when the lease was granted, 0 when the limit is reached.
   */
  static final Script ACQUIRE =
      Script.of(
          """
          local now = redis.call('TIME')
          local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
          redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
          if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
            redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[3]), ARGV[2])
            -- Never shortens the set's life below another node's longer lease.
            if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
              redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
            end
            return 1
          end
          return 0
          """);

  /**
   * Extends a lease this node still holds. One that Redis lost (a restart without persistence) is
   * not taken again, so a lease given back meanwhile never comes back. ARGV: the lease id, its
   * lifetime in milliseconds. Returns 1 when extended, 0 when Redis no longer has the lease.
   */
  static final Script RENEW =
      Script.of(
          """
          local now = redis.call('TIME')
          local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
          if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
            return 0
          end
          redis.call('ZADD', KEYS[1], 'XX', ms + tonumber(ARGV[2]), ARGV[1])
          if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
            redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
          end
          return 1
          """);

  private LimitScripts() {}
}
