package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;

/** Reception: queue names from the tenant and campaign headers, made safe, and the spool. */
class ReceiverTest {
  @TempDir Path folder;
  private Harness harness;

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  private String receive(String headers, String... recipients) throws Exception {
    harness = harness == null ? new Harness(folder, Map.of()) : harness;
    harness.admin.suspend(
        new org.postilion.api.admin.Selector("x.test", null, null, null), null, "hold");
    byte[] content =
        ("From: a@b.test\r\n" + headers + "Subject: s\r\n\r\nbody\r\n")
            .getBytes(StandardCharsets.UTF_8);
    return harness.manager.receive(
        new Submission("a@b.test", List.of(recipients), content, "ESMTP", "192.0.2.1", null));
  }

  private String stored(String id) throws Exception {
    try (InputStream in = harness.spool.openContent(id)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void tenantAndCampaignNameTheQueueAndLeaveTheMessage() throws Exception {
    String id = receive("X-Tenant: acme\r\nX-Campaign: spring\r\n", "u@x.test", "v@y.test");
    assertEquals(
        List.of("spring:acme@x.test", "spring:acme@y.test"),
        harness.spool.entries(id).stream().map(e -> e.entry().queue()).toList());
    String content = stored(id);
    assertFalse(content.contains("X-Tenant"), content);
    assertFalse(content.contains("X-Campaign"), content);
    assertTrue(content.endsWith("Subject: s\r\n\r\nbody\r\n"), content);
  }

  @Test
  void aTraceHeaderTiesTheMessageBackAndOneTheClientSentIsRemoved() throws Exception {
    String forged = "X-Postilion-Ref: eyJpZCI6Im90aGVyIn0.AAAAAAAAAAAAAAAAAAAAAA\r\n";
    String id = receive("X-Tenant: acme\r\n" + forged, "u@x.test");
    String content = stored(id);
    assertFalse(content.contains("AAAAAAAAAAAAAAAAAAAAAA"), content);
    assertTrue(content.startsWith("X-Postilion-Ref: "), content);
    // Folded into short lines; the value is the field without its line breaks.
    String field = content.substring(0, content.indexOf("\r\nFrom: "));
    assertTrue(field.lines().allMatch(line -> line.length() <= 100), field);
    String value = field.substring("X-Postilion-Ref: ".length()).replaceAll("\\s", "");
    var trace =
        org.postilion.api.message.TraceHeader.fromKeyFile(
                folder.resolve("bus").resolve("etc").resolve("postilion-trace.key"))
            .read(value)
            .orElseThrow();
    assertEquals(id, trace.messageId());
    assertEquals("acme", trace.tenant());
    assertEquals("acme@x.test", trace.queue());
    assertEquals("u@x.test", trace.recipient());
  }

  @Test
  void theTraceHeaderGoesBelowTheReceivedFields() {
    byte[] head =
        "Received: from a\r\n\tby b; date\r\nReturn-Path: <x@y>\r\nFrom: z\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    assertEquals(
        "Received: from a\r\n\tby b; date\r\nReturn-Path: <x@y>\r\n".length(),
        Receiver.afterTraceFields(head));
    assertEquals(
        0, Receiver.afterTraceFields("From: z\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void hostileTenantAndCampaignValuesAreMadeSafe() throws Exception {
    String id = receive("X-Tenant: ..{campaign}/../x\r\nX-Campaign: a b:c@d\r\n", "u@x.test");
    assertEquals(
        "a_b_c_d:___campaign__.._x@x.test", harness.spool.entries(id).get(0).entry().queue());
  }

  @Test
  void aMessageWithoutRecipientsIsRefused() throws Exception {
    harness = new Harness(folder, Map.of());
    ReceptionException refused =
        assertThrows(
            ReceptionException.class,
            () ->
                harness.manager.receive(
                    new Submission("a@b.test", List.of(), new byte[0], "ESMTP", "::1", null)));
    assertEquals(554, refused.response().code());
  }
}
