package org.postilion.api.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.Selector;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.net.HttpHeaders;

class JsonTest {

  /** Not public, as a servlet's own answer may be. */
  private record Answer(int successCount, List<String> failedRecipients, Duration waited) {}

  @Test
  void recordsAreObjectsWithSnakeCaseFieldsInDeclarationOrder() {
    assertEquals(
        "{\"success_count\":2,\"failed_recipients\":[\"a@b\",\"q\\\"\\\\\\n\\u0001\"],"
            + "\"waited\":\"PT1.5S\"}",
        Json.write(new Answer(2, List.of("a@b", "q\"\\\n\u0001"), Duration.ofMillis(1500))));
  }

  @Test
  void stringsKeepWhatNeedsNoEscapeAndEscapeTheRest() {
    assertEquals(
        "\"plain \\t\\r\\u001f\u007f no: \\u0000€ end\\\\\"",
        Json.quote("plain \t\r\u001f\u007f no: \u0000€ end\\", new StringBuilder()).toString());
    assertEquals("\"\"", Json.quote("", new StringBuilder()).toString());
    assertEquals("\"\\\"\"", Json.quote("\"", new StringBuilder()).toString());
  }

  @Test
  void apiObjectsWriteTheirComponentsEnumsAndInstants() {
    AdminAction action =
        new AdminAction(
            "s1",
            AdminAction.Kind.SUSPEND_READY,
            null,
            "mx.example",
            "maintenance",
            Instant.parse("2026-12-02T10:00:00Z"),
            null);
    assertEquals(
        "{\"id\":\"s1\",\"kind\":\"SUSPEND_READY\",\"selector\":null,\"site\":\"mx.example\","
            + "\"reason\":\"maintenance\",\"created\":\"2026-12-02T10:00:00Z\",\"expires\":null}",
        Json.write(action));
    assertEquals(
        "{\"domain\":\"d.test\",\"tenant\":null,\"campaign\":null,\"queue\":null}",
        Json.write(new Selector("d.test", null, null, null)));
  }

  @Test
  void omittedComponentsAreLeftOut() {
    assertEquals(
        "[{\"name\":\"x.port\",\"type\":\"integer 1..9\",\"default_value\":\"2\","
            + "\"description\":\"a port\"}]",
        Json.write(List.of(ProtocolKey.integer("x.port", 2, 1, 9, "a port"))));
  }

  @Test
  void mapsNullsNumbersAndArrays() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("n", null);
    map.put("b", true);
    map.put("l", 5L);
    map.put("a", new Object[] {1, "x"});
    assertEquals("{\"n\":null,\"b\":true,\"l\":5,\"a\":[1,\"x\"]}", Json.write(map));
    assertEquals("message_id", Json.snakeCase("messageId"));
  }

  @Test
  void headersAndAuthorization() {
    assertEquals(
        Map.of("X-One", "1", "X-Two", "a: b"), HttpHeaders.parse(" X-One: 1 ;; X-Two: a: b"));
    assertThrows(IllegalArgumentException.class, () -> HttpHeaders.parse("no colon"));
    assertThrows(IllegalArgumentException.class, () -> HttpHeaders.parse("Bad Name: x"));
    assertThrows(IllegalArgumentException.class, () -> HttpHeaders.parse("X: a\r\nInjected: b"));
    assertEquals("Bearer t", HttpHeaders.authorization(" t ", "u", "p"));
    assertEquals("Basic dTpw", HttpHeaders.authorization("", "u", "p"));
    assertEquals(null, HttpHeaders.authorization(null, " ", "p"));
  }
}
