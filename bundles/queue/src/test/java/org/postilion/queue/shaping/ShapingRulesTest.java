package org.postilion.queue.shaping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.testkit.TypedConfig;

class ShapingRulesTest {

  private static ShapingRule rule(String file, Map<String, String> keys) {
    return ShapingDefinition.toRule(file, TypedConfig.of(ShapingDefinition.Config.class, keys));
  }

  @Test
  void withoutRulesTheBuiltInDefaultsApply() {
    assertEquals(ShapingSettings.DEFAULTS, ShapingRules.merge(List.of(), "a.test", "mx.a.test:25"));
  }

  @Test
  void domainBeatsSiteBeatsDefaultKeyByKey() {
    List<ShapingRule> rules =
        List.of(
            rule("d.cfg", Map.of("connection_limit", "10", "max_message_rate", "100/s")),
            rule(
                "s.cfg",
                Map.of(
                    "match.site",
                    "*.mail.example.net:25",
                    "connection_limit",
                    "5",
                    "max_connection_rate",
                    "10/min")),
            rule("w.cfg", Map.of("match.domain", "*.big.test", "max_message_rate", "50/s")),
            rule("x.cfg", Map.of("match.domain", "shop.big.test", "max_message_rate", "5/s")));
    ShapingSettings shop = ShapingRules.merge(rules, "shop.big.test", "mx1.mail.example.net:25");
    assertEquals(5, shop.connectionLimit());
    assertEquals(Rate.parse("5/s"), shop.maxMessageRate());
    assertEquals(Rate.parse("10/min"), shop.maxConnectionRate());
    assertEquals(1024, shop.maxDeliveriesPerConnection());

    ShapingSettings other = ShapingRules.merge(rules, "news.big.test", "mx.elsewhere.test:25");
    assertEquals(10, other.connectionLimit());
    assertEquals(Rate.parse("50/s"), other.maxMessageRate());
    assertNull(other.maxConnectionRate());

    ShapingSettings plain = ShapingRules.merge(rules, "plain.test", "mx.plain.test:25");
    assertEquals(Rate.parse("100/s"), plain.maxMessageRate());
  }

  @Test
  void siteNamesMatchWithWildcards() {
    ShapingRule rule = rule("s.cfg", Map.of("match.site", "*.google.com:25"));
    assertTrue(rule.matchesSite("aspmx.l.google.com:25,alt1.aspmx.l.google.com:25"));
    assertTrue(!rule.matchesSite("mx.example.com:25"));
    ShapingRule exact = rule("e.cfg", Map.of("match.site", "mx.example.com:25"));
    assertTrue(exact.matchesSite("MX.example.com:25"));
    assertTrue(!exact.matchesSite("mx.example.com:2525"));
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    Map<Map<String, String>, String> cases =
        Map.of(
            Map.of("max_message_rate", "100/fortnight"), "key max_message_rate",
            Map.of("connection_limit", "-1"), "key connection_limit",
            Map.of("max_deliveries_per_connection", "lots"), "key max_deliveries_per_connection",
            Map.of("max_connection_rate", "0/s"), "key max_connection_rate",
            Map.of("match.domain", "a.test", "match.site", "mx:25"), "not both");
    cases.forEach(
        (keys, expected) -> {
          IllegalArgumentException e =
              assertThrows(IllegalArgumentException.class, () -> rule("bad.cfg", keys));
          assertTrue(e.getMessage().contains(expected), e.getMessage());
        });
  }
}
