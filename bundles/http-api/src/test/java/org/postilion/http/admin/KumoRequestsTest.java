package org.postilion.http.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.postilion.http.web.RequestException;

class KumoRequestsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");

  private static JsonNode body(String json) throws Exception {
    return JSON.readTree(json);
  }

  private static int status(String json) throws Exception {
    JsonNode body = body(json);
    return assertThrows(RequestException.class, () -> KumoRequests.bounce(body, NOW)).status();
  }

  @Test
  void aBounceTakesKumoMtasFieldsAndDurations() throws Exception {
    KumoRequests.Action bounce =
        KumoRequests.bounce(
            body("{\"domain\": \"Example.com\", \"reason\": \"r\", \"duration\": \"1h 30m\"}"),
            NOW);
    assertEquals("example.com", bounce.selector().domain());
    assertEquals(Duration.ofMinutes(90), bounce.duration());
    assertEquals(
        Duration.ofSeconds(90),
        KumoRequests.bounce(
                body("{\"domain\": \"x.test\", \"reason\": \"r\", \"duration\": 90}"), NOW)
            .duration());
    assertEquals(
        KumoRequests.DEFAULT_DURATION,
        KumoRequests.bounce(body("{\"tenant\": \"t\", \"reason\": \"r\"}"), NOW).duration());
    // expires wins over duration.
    assertEquals(
        Duration.ofHours(2),
        KumoRequests.bounce(
                body(
                    "{\"domain\": \"x.test\", \"reason\": \"r\", \"duration\": \"5m\","
                        + " \"expires\": \"2026-12-02T12:00:00Z\"}"),
                NOW)
            .duration());
    KumoRequests.Action byQueues =
        KumoRequests.bounce(
            body("{\"queue_names\": [\"a:t@x.test\", \"y.test\"], \"reason\": \"r\"}"), NOW);
    assertEquals("a:t@x.test,y.test", byQueues.selector().queue());
  }

  @Test
  void badBouncesAreRefusedWith422NamingTheField() throws Exception {
    assertEquals(422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"queue\": \"x.test\"}"));
    assertEquals(422, status("{\"domain\": \"x.test\"}"));
    assertEquals(422, status("{\"reason\": \"no criteria\"}"));
    assertEquals(422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"duration\": 1e300}"));
    assertEquals(422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"duration\": -5}"));
    assertEquals(422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"duration\": \"0s\"}"));
    assertEquals(
        422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"duration\": \"a fortnight\"}"));
    assertEquals(
        422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"expires\": \"tomorrow\"}"));
    assertEquals(
        422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"suppress_logging\": true}"));
    assertEquals(
        422, status("{\"domain\": \"x.test\", \"reason\": \"r\", \"routing_domain\": \"y\"}"));
    assertEquals(422, status("{\"queue_names\": \"x.test\", \"reason\": \"r\"}"));
  }
}
