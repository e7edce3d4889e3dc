package org.postilion.api.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;

class EventRecordTest {

  @Test
  void writesADeliveryInKumoMtasShapeWithEveryFieldKnown() {
    EventRecord record =
        EventRecord.builder(EventType.BOUNCE)
            .id("m1")
            .sender("a@b.c")
            .recipient("x@y.z")
            .queue("y.z")
            .site("mx.y.z")
            .size(42)
            .response(Response.of(550, "5.1.1", "no \"such\"\r\nuser").to("RCPT TO:<x@y.z>\r\n"))
            .peerAddress(new PeerAddress("mx.y.z", "192.0.2.1"))
            .timestamp(Instant.parse("2026-01-02T03:04:05.250Z"))
            .created(Instant.parse("2026-01-02T03:00:00Z"))
            .numAttempts(2)
            .egressPool("pool0")
            .egressSource("source1")
            .sourceAddress("10.0.0.1:53210")
            .meta(Map.of("dkim", "unsigned: no key"))
            .headers(Map.of("Subject", "Hi"))
            .deliveryProtocol("ESMTP")
            .receptionProtocol("ESMTP")
            .nodeId("557f3ad4-2c8c-11ee-976e-782d7e12e173")
            .tlsCipher("TLS_AES_256_GCM_SHA384")
            .tlsProtocolVersion("TLSv1.3")
            .tlsPeerSubjectName(List.of("C=US", "CN=mx.y.z"))
            .sessionId("9bcd689e-23d9-41b7-a015-63a1382f8b57")
            .tenant("acme")
            .build();
    assertEquals(
        "{\"type\":\"Bounce\",\"id\":\"m1\",\"sender\":\"a@b.c\",\"recipient\":\"x@y.z\","
            + "\"queue\":\"y.z\",\"site\":\"mx.y.z\",\"size\":42,"
            + "\"response\":{\"code\":550,\"enhanced_code\":{\"class\":5,\"subject\":1,\"detail\":1},"
            + "\"content\":\"no \\\"such\\\" user\",\"command\":\"RCPT TO:<x@y.z>\\r\\n\"},"
            + "\"peer_address\":{\"name\":\"mx.y.z\",\"addr\":\"192.0.2.1\"},"
            + "\"timestamp\":1767323045,\"event_time\":\"2026-01-02T03:04:05.250Z\","
            + "\"created\":1767322800,\"created_time\":\"2026-01-02T03:00:00Z\","
            + "\"num_attempts\":2,\"bounce_classification\":\"Uncategorized\","
            + "\"egress_pool\":\"pool0\",\"egress_source\":\"source1\","
            + "\"source_address\":{\"address\":\"10.0.0.1:53210\"},\"feedback_report\":null,"
            + "\"meta\":{\"dkim\":\"unsigned: no key\"},\"headers\":{\"Subject\":\"Hi\"},"
            + "\"delivery_protocol\":\"ESMTP\",\"reception_protocol\":\"ESMTP\","
            + "\"nodeid\":\"557f3ad4-2c8c-11ee-976e-782d7e12e173\","
            + "\"tls_cipher\":\"TLS_AES_256_GCM_SHA384\",\"tls_protocol_version\":\"TLSv1.3\","
            + "\"tls_peer_subject_name\":[\"C=US\",\"CN=mx.y.z\"],"
            + "\"session_id\":\"9bcd689e-23d9-41b7-a015-63a1382f8b57\",\"tenant\":\"acme\"}",
        record.toJson());
  }

  @Test
  void aRecordWithLittleKnownStillHasEveryFieldKumoMtaAlwaysWrites() {
    EventRecord record =
        EventRecord.builder(EventType.REJECTION)
            .timestamp(Instant.parse("2026-01-02T03:04:05Z"))
            .nodeId("557f3ad4-2c8c-11ee-976e-782d7e12e173")
            .build();
    assertEquals(
        "{\"type\":\"Rejection\",\"id\":\"\",\"sender\":\"\",\"recipient\":\"\",\"queue\":\"\","
            + "\"site\":\"\",\"size\":0,"
            + "\"response\":{\"code\":250,\"enhanced_code\":null,\"content\":\"\",\"command\":null},"
            + "\"peer_address\":null,\"timestamp\":1767323045,"
            + "\"event_time\":\"2026-01-02T03:04:05Z\",\"created\":1767323045,"
            + "\"created_time\":\"2026-01-02T03:04:05Z\",\"num_attempts\":0,"
            + "\"bounce_classification\":\"Uncategorized\",\"egress_pool\":null,"
            + "\"egress_source\":null,\"source_address\":null,\"feedback_report\":null,"
            + "\"meta\":{},\"headers\":{},\"delivery_protocol\":null,\"reception_protocol\":null,"
            + "\"nodeid\":\"557f3ad4-2c8c-11ee-976e-782d7e12e173\"}",
        record.toJson());
  }

  @Test
  void enhancedCodesAreParsedAsKumoMtaDoesAndInvalidOnesLeftOut() {
    assertEquals(
        Map.of("class", 4, "subject", 7, "detail", 10), EventRecord.enhancedCode("4.7.10"));
    assertNull(EventRecord.enhancedCode("3.0.0"));
    assertNull(EventRecord.enhancedCode("5.1"));
    assertNull(EventRecord.enhancedCode("5.x.1"));
    assertNull(EventRecord.enhancedCode("2.0.0.1"));
    assertNull(EventRecord.enhancedCode(""));
  }

  @Test
  void lineBreaksInARepliesContentBecomeSpacesAsKumoMtaWritesThem() {
    assertEquals("hello there ", EventRecord.singleLine("hello\r\nthere\r\n"));
    assertEquals("hello ", EventRecord.singleLine("hello\r"));
    assertEquals("hello there ", EventRecord.singleLine("hello\nthere\r\n"));
    assertEquals("hello   there ", EventRecord.singleLine("hello\r\r\r\nthere\n"));
  }

  @Test
  void aBuilderStartingFromARecordMakesAnEqualRecord() {
    EventRecord record =
        EventRecord.builder(EventType.DELIVERY).id("m").recipient("r@x").numAttempts(1).build();
    assertEquals(record, record.toBuilder().build());
    assertEquals("Delayed", record.toBuilder().type(EventType.DELAYED).build().type().recordName());
  }
}
