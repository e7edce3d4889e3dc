package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogCaptureTest {
  private static byte[] head(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void capturesTheNamedFieldsAndPrefixesOnceEachInMessageOrder() {
    LogCapture capture = LogCapture.parse("subject, x-*", "");
    Map<String, String> headers =
        capture.headers(
            head(
                "From: a@example.com\r\nX-Tag: one\r\nsubject: Hi\r\n there\r\nX-Tag: two\r\n"
                    + "\r\nbody\r\n"));
    assertEquals(List.of("X-Tag", "subject"), List.copyOf(headers.keySet()));
    assertEquals("one", headers.get("X-Tag"), "the first occurrence");
    assertEquals("Hi there", headers.get("subject"), "unfolded");
  }

  @Test
  void capturesOnlyTheNamedMetaValues() {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("dkim_error", "no key");
    meta.put("tier", "gold");
    assertEquals(Map.of("tier", "gold"), LogCapture.parse("", "TIER").meta(meta));
    assertEquals(Map.of(), LogCapture.NONE.meta(meta));
    assertEquals(Map.of(), LogCapture.NONE.headers(head("Subject: x\r\n\r\n")));
  }

  @Test
  void aClientsHeaderSectionCannotMakeRecordsLarge() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      text.append("X-Field-").append(i).append(": ").append("v".repeat(5000)).append("\r\n");
    }
    Map<String, String> headers = LogCapture.parse("X-*", "").headers(head(text + "\r\n"));
    assertTrue(headers.values().stream().allMatch(v -> v.length() == LogCapture.MAX_VALUE));
    int total =
        headers.entrySet().stream()
            .mapToInt(e -> e.getKey().length() + e.getValue().length())
            .sum();
    assertTrue(total <= LogCapture.MAX_TOTAL && headers.size() == 7, headers.keySet().toString());
  }

  @Test
  void aListThatIsNotFieldNamesIsRefusedNamingTheKey() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LogCapture.parse("Sub ject", ""));
    assertTrue(e.getMessage().startsWith("log_headers: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LogCapture.parse("", "a:b"));
    assertTrue(e.getMessage().startsWith("log_meta: "), e.getMessage());
  }
}
