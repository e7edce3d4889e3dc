package org.postilion.http.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Transfer;
import org.postilion.http.web.Json;
import org.postilion.http.web.RequestException;

/** The JSON line of an xfer: what it must hold, and what it must not. */
class XferServletTest {

  private static Transfer parse(String line) throws Exception {
    ContentBuffer content = ContentBuffer.inMemory();
    content.output().write("Subject: x\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII));
    return XferServlet.transfer(
        Json.parse(line.getBytes(StandardCharsets.UTF_8)), content, "127.0.0.1");
  }

  @Test
  void aTransferAsTheOtherNodeSendsIt() throws Exception {
    Transfer transfer =
        parse(
            "{\"source_node\":\"n1\",\"source_id\":\"m1\",\"sender\":\"\",\"recipients\":"
                + "[\"a@x.test\",\"b@x.test\"],\"queue\":\"c:t@x.test\","
                + "\"created\":\"2026-12-01T00:00:00Z\",\"due\":\"2026-12-01T01:00:00Z\","
                + "\"attempts\":3}");
    assertEquals(List.of("a@x.test", "b@x.test"), transfer.recipients());
    assertEquals("", transfer.sender(), "the null sender of a bounce");
    assertEquals("c:t@x.test", transfer.queue());
    assertEquals(Instant.parse("2026-12-01T01:00:00Z"), transfer.due());
    assertEquals(3, transfer.attempts());
    // Tenant and campaign are those its queue names: a transfer has no fields of its own for them.
    assertEquals("n1", transfer.sourceNode());
    assertEquals("m1", transfer.sourceId());
  }

  @Test
  void badFieldsAreNamed() {
    String good =
        "\"source_node\":\"n1\",\"source_id\":\"m1\",\"sender\":\"s@x.test\",\"queue\":\"x.test\"";
    assertField("recipients", "{" + good + "}");
    assertField("recipients", "{" + good + ",\"recipients\":[]}");
    assertField("recipients", "{" + good + ",\"recipients\":[\"no-at-sign\"]}");
    assertField("recipients", "{" + good + ",\"recipients\":[\"a@x\\r\\nRCPT TO:<b@y>\"]}");
    assertField("recipients", "{" + good + ",\"recipients\":[\"<a@x.test>\"]}");
    assertField(
        "sender",
        "{\"source_node\":\"n\",\"source_id\":\"m\",\"queue\":\"x.test\",\"recipients\":[\"a@x.test\"]}");
    assertField(
        "queue",
        "{\"source_node\":\"n\",\"source_id\":\"m\",\"sender\":\"\",\"recipients\":[\"a@x.test\"]}");
    assertField("due", "{" + good + ",\"recipients\":[\"a@x.test\"],\"due\":\"tomorrow\"}");
    assertField("attempts", "{" + good + ",\"recipients\":[\"a@x.test\"],\"attempts\":-1}");
  }

  private static void assertField(String field, String line) {
    RequestException e = assertThrows(RequestException.class, () -> parse(line));
    assertTrue(e.getMessage().contains(field) || field.equals(e.field()), field + ": " + e);
  }
}
