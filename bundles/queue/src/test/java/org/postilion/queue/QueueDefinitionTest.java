package org.postilion.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.shaping.Rate;
import org.postilion.testkit.TypedConfig;

class QueueDefinitionTest {

  private static QueueRule rule(Map<String, String> keys) {
    Map<String, Object> properties = new HashMap<>(keys);
    properties.put("service.pid", "org.postilion.queue~test");
    properties.put("felix.fileinstall.filename", "file:/etc/org.postilion.queue-test.cfg");
    return QueueDefinition.toRule(
        "org.postilion.queue-test.cfg",
        TypedConfig.of(QueueDefinition.Config.class, keys),
        properties);
  }

  @Test
  void readsKeysAndKeepsProtocolKeysWithoutFrameworkOnes() {
    QueueRule rule =
        rule(
            Map.of(
                "match.domain", "Example.COM",
                "protocol", "maildir",
                "maildir.path", "/var/mail/{user}",
                "retry.interval", "5m",
                "retry.max_interval", "1h",
                "max_age", "2d"));
    assertEquals("example.com", rule.domain());
    assertNull(rule.tenant());
    assertEquals("maildir", rule.config().protocol());
    assertEquals("/var/mail/{user}", rule.config().property("maildir.path"));
    assertNull(rule.config().property("service.pid"));
    assertNull(rule.config().property("felix.fileinstall.filename"));
    assertEquals(Duration.ofMinutes(5), rule.config().retry().interval());
    assertEquals(Duration.ofHours(1), rule.config().retry().maxInterval());
    assertEquals(Duration.ofDays(2), rule.config().maxAge());
    assertNull(rule.config().egressPool());
    assertNull(rule.config().maxMessageRate());
  }

  @Test
  void readsThePoolAndTheQueuesOwnRate() {
    QueueRule rule = rule(Map.of("egress_pool", "warm", "max_message_rate", "5000/h"));
    assertEquals("warm", rule.config().egressPool());
    assertEquals(new Rate(5000, Duration.ofHours(1)), rule.config().maxMessageRate());
  }

  @Test
  void missingKeysTakeTheDocumentedDefaults() {
    QueueRule rule = rule(Map.of());
    assertEquals("*", rule.domain());
    assertEquals("smtp", rule.config().protocol());
    assertEquals(Duration.ofMinutes(20), rule.config().retry().interval());
    assertNull(rule.config().retry().maxInterval());
    assertEquals(Duration.ofDays(7), rule.config().maxAge());
  }

  @Test
  void aBadValueIsRefusedNamingItsKey() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> rule(Map.of("retry.interval", "a fortnight")));
    assertTrue(e.getMessage().startsWith("key retry.interval: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> rule(Map.of("max_age", "-3d")));
    assertTrue(e.getMessage().startsWith("key max_age: "), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> rule(Map.of("max_message_rate", "100/fortnight")));
    assertTrue(e.getMessage().startsWith("key max_message_rate: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> rule(Map.of("protocol", " ")));
    assertTrue(e.getMessage().contains("protocol"), e.getMessage());
  }

  /** A new file that does not hold still claims its mail: it waits instead of taking "*". */
  @Test
  void aRejectedNewFileStillMatchesItsQueues() {
    Map<String, Object> keys = new HashMap<>();
    keys.put("match.domain", "badkeys.test");
    keys.put("protocol", "maildir");
    keys.put("retry.interval", "banana");
    keys.put("felix.fileinstall.filename", "file:/etc/org.postilion.queue-badkeys.cfg");
    QueueDefinition definition = new QueueDefinition();
    definition.activate(TypedConfig.of(QueueDefinition.Config.class, keys), keys);
    QueueRule rejected = definition.rule();
    assertTrue(rejected.rejection().contains("retry.interval"), rejected.rejection());
    QueueRule fallback = rule(Map.of("match.domain", "*"));
    assertEquals(
        rejected,
        QueueRules.matching(
            java.util.List.of(fallback, rejected),
            org.postilion.api.queue.QueueName.parse("badkeys.test")));
    assertNull(fallback.rejection());
  }

  @Test
  void aNewFileWhoseMatchKeysDoNotHoldIsRefused() {
    Map<String, Object> keys = new HashMap<>();
    keys.put("match.domain", "a*b.test");
    keys.put("retry.interval", "banana");
    QueueDefinition definition = new QueueDefinition();
    assertThrows(
        IllegalArgumentException.class,
        () -> definition.activate(TypedConfig.of(QueueDefinition.Config.class, keys), keys));
  }
}
