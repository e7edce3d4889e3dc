package org.postilion.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.shaping.Rate;
import org.postilion.testkit.TypedConfig;

class QueueDefinitionTest {

  /** What an installed SMTP protocol declares, in small. */
  private static final List<ProtocolKey> SMTP_KEYS =
      List.of(
          ProtocolKey.integer("smtp.port", 25, 1, 65535, "port"),
          ProtocolKey.bool("smtp.allow_loopback", false, "loopback"),
          ProtocolKey.text("smtp.mx_list", "", "smarthosts"));

  private static QueueRule rule(Map<String, String> keys) {
    return rule(keys, protocol -> null);
  }

  private static QueueRule rule(
      Map<String, String> keys, Function<String, List<ProtocolKey>> installed) {
    Map<String, Object> properties = new HashMap<>(keys);
    properties.put("service.pid", "org.postilion.queue~test");
    properties.put("felix.fileinstall.filename", "file:/etc/org.postilion.queue-test.cfg");
    return QueueDefinition.toRule(
        "org.postilion.queue-test.cfg",
        TypedConfig.of(QueueDefinition.Config.class, keys),
        properties,
        installed);
  }

  private static String refusal(Map<String, String> keys) {
    return assertThrows(
            IllegalArgumentException.class,
            () -> rule(keys, protocol -> protocol.equals("smtp") ? SMTP_KEYS : null))
        .getMessage();
  }

  @Test
  void keysTheInstalledProtocolDeclaresAreCheckedWhenTheFileIsRead() {
    QueueRule rule =
        rule(
            Map.of("protocol", "smtp", "smtp.port", "2525", "max_age", "1d"),
            protocol -> SMTP_KEYS);
    assertEquals("2525", rule.config().property("smtp.port"));

    String typo = refusal(Map.of("protocol", "smtp", "smtp.conection_limit", "3"));
    assertTrue(typo.startsWith("key smtp.conection_limit: not a key of protocol smtp"), typo);
    assertTrue(typo.contains("etc/org.postilion.queue.shaping-*.cfg (connection_limit)"), typo);
    assertTrue(typo.contains("smtp.mx_list"), typo);

    String near = refusal(Map.of("protocol", "smtp", "smtp.allow_loopbak", "true"));
    assertTrue(near.contains("did you mean smtp.allow_loopback?"), near);

    String malformed = refusal(Map.of("protocol", "smtp", "smtp.port", "70000"));
    assertEquals("key smtp.port: must be from 1 to 65535, not 70000", malformed);

    String otherProtocol = refusal(Map.of("protocol", "smtp", "maildir.path", "/var/mail"));
    assertTrue(otherProtocol.startsWith("key maildir.path: not a key of protocol smtp"));

    String coreTypo = refusal(Map.of("protocol", "smtp", "max_agee", "2d"));
    assertTrue(coreTypo.contains("did you mean max_age?"), coreTypo);
  }

  @Test
  void theCoreKeysAreTheConfigurationsOwnNames() {
    assertEquals(
        java.util.Set.of(
            "match.domain",
            "match.tenant",
            "match.campaign",
            "protocol",
            "retry.interval",
            "retry.max_interval",
            "max_age",
            "egress_pool",
            "max_message_rate"),
        QueueKeys.CORE);
  }

  @Test
  void keysOfAProtocolNotInstalledWaitForIt() {
    QueueRule rule = rule(Map.of("protocol", "smtp", "smtp.conection_limit", "3"));
    assertEquals("3", rule.config().property("smtp.conection_limit"));
  }

  @Test
  void aFileIsRejectedWhenItsProtocolArrivesAndItsKeysDoNotHold() {
    Map<String, Object> keys = new HashMap<>();
    keys.put("match.domain", "late.test");
    keys.put("protocol", "smtp");
    keys.put("smtp.conection_limit", "3");
    keys.put("felix.fileinstall.filename", "file:/etc/org.postilion.queue-late.cfg");
    QueueDefinition definition = new QueueDefinition();
    definition.activate(TypedConfig.of(QueueDefinition.Config.class, keys), keys, null);
    assertNull(definition.rule().rejection());
    assertFalse(definition.protocolArrived("maildir", List.of()));
    assertNull(definition.rule().rejection());

    assertTrue(definition.protocolArrived("smtp", SMTP_KEYS));
    QueueRule rejected = definition.rule();
    assertTrue(rejected.rejection().startsWith("key smtp.conection_limit"), rejected.rejection());
    assertEquals("late.test", rejected.domain());
    assertFalse(definition.protocolArrived("smtp", SMTP_KEYS));
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
    definition.activate(TypedConfig.of(QueueDefinition.Config.class, keys), keys, null);
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
        () -> definition.activate(TypedConfig.of(QueueDefinition.Config.class, keys), keys, null));
  }
}
