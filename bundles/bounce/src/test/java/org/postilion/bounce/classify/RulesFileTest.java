package org.postilion.bounce.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RulesFileTest {

  @Test
  void readsKumoMtasRulesFormatInOrder() {
    List<RulesFile.Rule> rules =
        RulesFile.parse(
            "kumo.toml",
            """
            # KumoMTA's shape
            [rules]
            InvalidRecipient = [
              "^(451|550) [45]\\\\.1\\\\.[1234] ",  # a comment after a rule
              '^550 literal\\d',
            ]
            "QuotaIssues" = ["^552 [45]\\\\.2\\\\.2 "]
            MyOwnClass = [] # user-defined labels are allowed
            """);
    assertEquals(3, rules.size());
    assertEquals("InvalidRecipient", rules.get(0).bounceClass());
    assertEquals("^(451|550) [45]\\.1\\.[1234] ", rules.get(0).pattern().pattern());
    assertEquals("^550 literal\\d", rules.get(1).pattern().pattern(), "literal strings keep \\");
    assertEquals("QuotaIssues", rules.get(2).bounceClass());
    assertTrue(rules.get(0).origin().startsWith("kumo.toml:3"), rules.get(0).origin());
  }

  @Test
  void mistakesAreRefusedWithFileAndLine() {
    assertEquals(
        "bad.toml:3: class InvalidRecipient: Unclosed group in regular expression ^(550",
        assertThrows(
                IllegalArgumentException.class,
                () -> RulesFile.parse("bad.toml", "[rules]\n\nInvalidRecipient = [\"^(550\"]\n"))
            .getMessage()
            .replaceAll(" near index \\d+", ""));
    assertThrows(
        IllegalArgumentException.class,
        () -> RulesFile.parse("bad.toml", "[other]\nX = [\"a\"]\n"),
        "only [rules]");
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> RulesFile.parse("bad.toml", "[rules]\nX = [\"a\\.b\"]\n"))
            .getMessage()
            .contains("bad.toml:2: unknown escape \\."));
    assertThrows(
        IllegalArgumentException.class,
        () -> RulesFile.parse("bad.toml", "[rules]\nX = [\"a\"\n"),
        "unclosed array");
    assertThrows(
        IllegalArgumentException.class, () -> RulesFile.parse("bad.toml", "X = [\"a\"]\n"));
  }
}
