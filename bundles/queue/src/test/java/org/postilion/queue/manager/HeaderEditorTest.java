package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HeaderEditorTest {

  private static HeaderEditor.Result remove(String message) {
    return HeaderEditor.remove(
        message.getBytes(StandardCharsets.ISO_8859_1), Set.of("x-tenant", "x-campaign"));
  }

  private static String text(HeaderEditor.Result result) {
    return new String(result.content(), StandardCharsets.ISO_8859_1);
  }

  @Test
  void removesNamedFieldsCaseInsensitivelyWithTheirContinuationLines() {
    HeaderEditor.Result result =
        remove(
            "From: a@b.c\r\nx-TENANT: acme\r\nX-Campaign: spring\r\n  sale\r\nSubject: hi\r\n"
                + "\r\nX-Tenant: in the body stays\r\n");
    assertEquals("From: a@b.c\r\nSubject: hi\r\n\r\nX-Tenant: in the body stays\r\n", text(result));
    assertEquals(Map.of("x-tenant", "acme", "x-campaign", "spring  sale"), result.removed());
  }

  @Test
  void firstValueWinsAndEveryCopyIsRemoved() {
    HeaderEditor.Result result = remove("X-Tenant: one\r\nX-Tenant: two\r\n\r\nbody\r\n");
    assertEquals("\r\nbody\r\n", text(result));
    assertEquals("one", result.removed().get("x-tenant"));
  }

  @Test
  void leavesMessagesWithoutThoseFieldsByteForByte() {
    String message = "Subject: caf\u00e9\r\n\r\n\u00ff body\r\n";
    assertEquals(message, text(remove(message)));
  }

  @Test
  void copesWithAMessageWithoutBodyOrHeaders() {
    assertEquals("From: a@b.c\r\n", text(remove("From: a@b.c\r\nX-Tenant: acme\r\n")));
    assertEquals("\r\nbody\r\n", text(remove("\r\nbody\r\n")));
  }
}
