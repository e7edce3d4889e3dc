package org.postilion.api.event;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;

class EventRecordTest {

  @Test
  void writesKumoFieldNamesAndEscapes() {
    EventRecord record =
        new EventRecord(
            EventType.BOUNCE,
            "m1",
            "a@b.c",
            "x@y.z",
            "y.z",
            null,
            42,
            Response.of(550, "5.1.1", "no \"such\" user\r\n"),
            new PeerAddress("mx.y.z", "192.0.2.1"),
            Instant.parse("2026-01-02T03:04:05Z"),
            Instant.parse("2026-01-02T03:00:00Z"),
            2,
            null,
            null,
            "smtp",
            "ESMTP",
            "TLSv1.3",
            null,
            Map.of("dkim", "unsigned: no key"));
    assertEquals(
        "{\"type\":\"Bounce\",\"id\":\"m1\",\"sender\":\"a@b.c\",\"recipient\":\"x@y.z\","
            + "\"queue\":\"y.z\",\"size\":42,\"response\":{\"code\":550,\"enhanced_code\":\"5.1.1\","
            + "\"content\":\"no \\\"such\\\" user\\r\\n\"},\"peer_address\":{\"name\":\"mx.y.z\",\"addr\":\"192.0.2.1\"},"
            + "\"timestamp\":\"2026-01-02T03:04:05Z\",\"created\":\"2026-01-02T03:00:00Z\","
            + "\"num_attempts\":2,\"delivery_protocol\":\"smtp\",\"reception_protocol\":\"ESMTP\","
            + "\"tls_protocol_version\":\"TLSv1.3\",\"meta\":{\"dkim\":\"unsigned: no key\"}}",
        record.toJson());
  }
}
