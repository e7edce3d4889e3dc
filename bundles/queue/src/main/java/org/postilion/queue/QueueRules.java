package org.postilion.queue;

import java.util.Collection;
import java.util.Map;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.queue.RetrySchedule;

/** Chooses the configuration for a queue among the rules in force. */
public final class QueueRules {

  /** What a queue gets when no rule matches it. */
  public static final QueueConfig BUILT_IN_DEFAULT =
      new QueueConfig(
          "built-in default",
          QueueConfig.DEFAULT_PROTOCOL,
          new RetrySchedule(RetrySchedule.DEFAULT_INTERVAL, null),
          QueueConfig.DEFAULT_MAX_AGE,
          null,
          null,
          Map.of());

  private QueueRules() {}

  public static QueueConfig resolve(Collection<QueueRule> rules, QueueName queue) {
    QueueRule rule = matching(rules, queue);
    return rule == null ? BUILT_IN_DEFAULT : rule.config();
  }

  /** The most specific rule for the queue, rejected files included; null for the default. */
  public static QueueRule matching(Collection<QueueRule> rules, QueueName queue) {
    return rules.stream()
        .filter(rule -> rule.matches(queue))
        .min(QueueRule.MOST_SPECIFIC_FIRST)
        .orElse(null);
  }
}
