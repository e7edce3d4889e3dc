package org.postilion.api.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderTableTest {
  private final ProviderTable table =
      ProviderTable.of(
          new LinkedHashMap<>(
              Map.of(
                  "google", ".google.com, .googlemail.com",
                  "microsoft", ".mail.protection.outlook.com")));

  @Test
  void aSiteIsTheProvidersWhenEveryMxHostEndsWithItsSuffixes() {
    assertEquals(
        "google",
        table.provider("aspmx.l.google.com:25,alt1.aspmx.l.google.com:25,x.googlemail.com:25"));
    assertEquals("microsoft", table.provider("example-com.mail.protection.outlook.com:25"));
    assertEquals("google", table.provider("ASPMX.L.GOOGLE.COM.:25"), "case and a trailing dot");
  }

  @Test
  void aSiteNoProviderClaimsIsItsOwnProvider() {
    String mixed = "aspmx.l.google.com:25,mx.example.com:25";
    assertEquals(mixed, table.provider(mixed), "one host outside the suffixes");
    assertEquals("mx.example.com:25", table.provider("mx.example.com:25"));
    assertEquals("[127.0.0.1]:2526", table.provider("[127.0.0.1]:2526"), "addresses name none");
    assertEquals("/var/mail/root", table.provider("/var/mail/root"), "a maildir root");
    assertEquals("", table.provider(""));
    assertEquals("", table.provider(null));
    // A suffix is a whole label boundary only when written with its dot.
    assertEquals("evilgoogle.com:25", table.provider("evilgoogle.com:25"));
  }

  @Test
  void badEntriesAreRefusedNamingTheProvider() {
    IllegalArgumentException empty =
        assertThrows(IllegalArgumentException.class, () -> ProviderTable.of(Map.of("x", " , ")));
    assertTrue(empty.getMessage().startsWith("x: "), empty.getMessage());
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class, () -> ProviderTable.of(Map.of("y", ".ok.com, b@d")));
    assertTrue(bad.getMessage().contains("y: ") && bad.getMessage().contains("b@d"));
    assertThrows(
        IllegalArgumentException.class, () -> ProviderTable.of(Map.of("no spaces", ".a.com")));
  }
}
