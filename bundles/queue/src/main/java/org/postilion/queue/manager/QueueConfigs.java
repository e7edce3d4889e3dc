package org.postilion.queue.manager;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueConfigPolicy;
import org.postilion.api.queue.QueueName;
import org.postilion.queue.QueueRule;
import org.postilion.queue.QueueRules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration in force for each scheduled queue, resolved once and kept until a queue file or
 * a policy changes (or, for what a policy route decides, for a while). Policies (the {@code
 * direct:queue-config} route) run on threads of their own with a deadline, so a slow or failing one
 * delays only the queues waiting for its answer, never dispatch as a whole.
 */
final class QueueConfigs {
  private static final Logger LOG = LoggerFactory.getLogger(QueueConfigs.class);

  private record Cached(
      CompletableFuture<QueueConfig> config, String rejectedFile, long madeNanos) {}

  private final Supplier<List<QueueRule>> rules;
  private final Supplier<List<QueueConfigPolicy>> policies;
  private final Executor policyThreads;
  private final Duration policyTimeout;
  private final Duration lifetime;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  QueueConfigs(
      Supplier<List<QueueRule>> rules,
      Supplier<List<QueueConfigPolicy>> policies,
      Executor policyThreads,
      Duration policyTimeout,
      Duration lifetime) {
    this.rules = rules;
    this.policies = policies;
    this.policyThreads = policyThreads;
    this.policyTimeout = policyTimeout;
    this.lifetime = lifetime;
  }

  /** A file or a policy changed: everything is resolved again. */
  void invalidate() {
    cache.clear();
  }

  /**
   * The queue's configuration: at once when it is known, later when a policy still works on it.
   * Never fails: a policy that fails or overruns is logged and passed over.
   */
  CompletableFuture<QueueConfig> lookup(QueueName queue) {
    return cached(queue).config();
  }

  private Cached cached(QueueName queue) {
    String name = queue.toString();
    long now = System.nanoTime();
    Cached cached = cache.get(name);
    if (cached != null && now - cached.madeNanos() < lifetime.toNanos()) {
      return cached;
    }
    List<QueueRule> current = rules.get();
    QueueRule rule = QueueRules.matching(current, queue);
    String rejected = rule == null || rule.rejection() == null ? null : rule.config().source();
    Cached fresh = new Cached(resolve(queue, current), rejected, now);
    cache.put(name, fresh);
    return fresh;
  }

  /** The configuration now, without waiting for a policy: for inspection and records. */
  QueueConfig now(QueueName queue) {
    Cached cached = cache.get(queue.toString());
    if (cached != null && cached.config().isDone()) {
      return cached.config().join();
    }
    return QueueRules.resolve(rules.get(), queue);
  }

  /** The file of a rejected configuration that matches the queue best, or null. */
  String rejectedFile(QueueName queue) {
    return cached(queue).rejectedFile();
  }

  private CompletableFuture<QueueConfig> resolve(QueueName queue, List<QueueRule> current) {
    QueueConfig base = QueueRules.resolve(current, queue);
    List<QueueConfigPolicy> adjusting = policies.get();
    if (adjusting.isEmpty()) {
      return CompletableFuture.completedFuture(base);
    }
    CompletableFuture<QueueConfig> result = new CompletableFuture<>();
    try {
      policyThreads.execute(() -> result.complete(adjust(queue, base, adjusting)));
    } catch (RejectedExecutionException e) {
      LOG.warn("Queue configuration policies are overloaded; {} goes by its file", queue);
      result.complete(base);
      return result;
    }
    return result
        .orTimeout(policyTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionally(
            e -> {
              LOG.warn(
                  "Queue configuration policy for {} gave no answer within {}; the file's"
                      + " configuration applies",
                  queue,
                  policyTimeout);
              return base;
            });
  }

  private static QueueConfig adjust(
      QueueName queue, QueueConfig base, List<QueueConfigPolicy> policies) {
    QueueConfig config = base;
    for (QueueConfigPolicy policy : policies) {
      try {
        config = policy.adjust(queue, config);
      } catch (RuntimeException e) {
        LOG.warn("Queue configuration policy {} failed for {}; ignored", policy, queue, e);
      }
    }
    return config;
  }
}
