package org.postilion.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;
import org.postilion.api.queue.RetrySchedule;

class QueueRulesTest {

  private static QueueRule rule(String source, String domain, String tenant, String campaign) {
    return new QueueRule(
        domain,
        tenant,
        campaign,
        new QueueConfig(
            source,
            "maildir",
            new RetrySchedule(Duration.ofMinutes(1), null),
            Duration.ofDays(1),
            null,
            null,
            Map.of()));
  }

  private static String winner(List<QueueRule> rules, String queue) {
    return QueueRules.resolve(rules, QueueName.parse(queue)).source();
  }

  @Test
  void exactDomainBeatsWildcardsAndWildcardsBeatTheDefault() {
    List<QueueRule> rules =
        List.of(
            rule("default", "*", null, null),
            rule("sub", "*.example.com", null, null),
            rule("deeper", "*.eu.example.com", null, null),
            rule("exact", "example.com", null, null));
    assertEquals("exact", winner(rules, "example.com"));
    assertEquals("sub", winner(rules, "mail.example.com"));
    assertEquals("deeper", winner(rules, "mx.eu.example.com"));
    assertEquals("default", winner(rules, "other.org"));
  }

  @Test
  void wildcardMatchesSubdomainsOnlyAndNotLookalikes() {
    List<QueueRule> rules = List.of(rule("sub", "*.example.com", null, null));
    assertSame(
        QueueRules.BUILT_IN_DEFAULT, QueueRules.resolve(rules, QueueName.parse("example.com")));
    assertSame(
        QueueRules.BUILT_IN_DEFAULT, QueueRules.resolve(rules, QueueName.parse("badexample.com")));
  }

  @Test
  void tenantAndCampaignNarrowAMatch() {
    List<QueueRule> rules =
        List.of(
            rule("domain", "example.com", null, null),
            rule("tenant", "example.com", "acme", null),
            rule("both", "example.com", "acme", "spring"));
    assertEquals("domain", winner(rules, "other@example.com"));
    assertEquals("tenant", winner(rules, "acme@example.com"));
    assertEquals("tenant", winner(rules, "autumn:acme@example.com"));
    assertEquals("both", winner(rules, "spring:acme@example.com"));
  }

  @Test
  void aNamedDomainBeatsATenantRuleForAnyDomain() {
    List<QueueRule> rules =
        List.of(
            rule("tenant-anywhere", "*", "acme", null), rule("domain", "example.com", null, null));
    assertEquals("domain", winner(rules, "acme@example.com"));
    assertEquals("tenant-anywhere", winner(rules, "acme@other.org"));
  }

  @Test
  void tiesAreBrokenByNameNotByOrder() {
    QueueRule a = rule("a", "example.com", null, null);
    QueueRule b = rule("b", "example.com", null, null);
    assertEquals("a", winner(List.of(a, b), "example.com"));
    assertEquals("a", winner(List.of(b, a), "example.com"));
  }

  @Test
  void noRuleMeansTheBuiltInDefaultOnSmtp() {
    QueueConfig config = QueueRules.resolve(List.of(), QueueName.parse("example.com"));
    assertEquals("smtp", config.protocol());
    assertEquals(Duration.ofMinutes(20), config.retry().interval());
    assertEquals(Duration.ofDays(7), config.maxAge());
  }

  @Test
  void refusesMisplacedWildcards() {
    assertThrows(IllegalArgumentException.class, () -> rule("x", "mail.*.com", null, null));
    assertThrows(IllegalArgumentException.class, () -> rule("x", "*example.com", null, null));
  }
}
