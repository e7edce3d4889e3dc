package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueConfigPolicy;
import org.postilion.api.queue.QueueName;
import org.postilion.queue.QueueRule;

class QueueConfigsTest {
  private final List<QueueRule> rules =
      new CopyOnWriteArrayList<>(
          List.of(Harness.definition("*", Map.of("protocol", "maildir")).rule()));
  private final List<QueueConfigPolicy> policies = new CopyOnWriteArrayList<>();
  private final QueueConfigs configs =
      new QueueConfigs(
          () -> rules,
          () -> policies,
          Executors.newFixedThreadPool(2),
          Duration.ofMillis(300),
          Duration.ofMinutes(1));

  @Test
  void aQueuesConfigurationIsResolvedOnceAndAgainAfterAChange() {
    QueueName queue = QueueName.parse("acme@example.com");
    QueueConfig first = configs.lookup(queue).join();
    assertEquals("maildir", first.protocol());
    assertSame(first, configs.lookup(queue).join(), "cached");
    rules.add(Harness.definition("example.com", Map.of("protocol", "lmtp")).rule());
    assertSame(first, configs.lookup(queue).join(), "still cached until told");
    configs.invalidate();
    assertEquals("lmtp", configs.lookup(queue).join().protocol());
  }

  @Test
  void aPolicyRunsOffTheCallersThreadAndIsAskedOncePerQueue() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    CountDownLatch answer = new CountDownLatch(1);
    policies.add(
        (queue, config) -> {
          asked.incrementAndGet();
          try {
            answer.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return config;
        });
    QueueName queue = QueueName.parse("example.com");
    var pending = configs.lookup(queue);
    assertFalse(pending.isDone(), "the caller does not wait for the policy");
    answer.countDown();
    assertEquals("maildir", pending.get(5, TimeUnit.SECONDS).protocol());
    configs.lookup(queue).join();
    assertEquals(1, asked.get());
  }

  @Test
  void aPolicyThatNeverAnswersIsPassedOverAfterItsTimeout() throws Exception {
    policies.add(
        (queue, config) -> {
          try {
            Thread.sleep(10_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return null;
        });
    QueueConfig config = configs.lookup(QueueName.parse("example.com")).get(5, TimeUnit.SECONDS);
    assertEquals("maildir", config.protocol(), "the file's configuration applies");
  }

  @Test
  void aRejectedFileIsNamedForTheQueuesItMatches() {
    rules.add(
        new QueueRule(
            "bad.test",
            null,
            null,
            org.postilion.queue.QueueRules.BUILT_IN_DEFAULT,
            "key retry.interval: not a duration"));
    assertTrue(configs.rejectedFile(QueueName.parse("bad.test")) != null);
    assertEquals(null, configs.rejectedFile(QueueName.parse("good.test")));
  }
}
