package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.postilion.testkit.KumoRecordShape;
import org.postilion.testkit.SelfSignedTls;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;

/**
 * Event records leave the server through a webhook configured by a cfg file alone: a real HTTP
 * server started by the test receives them with KumoMTA's fields, and records made while it is down
 * arrive once it is back.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class EventStreamIT extends PostilionTestSupport {
  private static final String WEBHOOK_PORT_PROPERTY = "postilion.itest.webhook.port";
  private static final String WEBHOOK_CFG = "etc/org.postilion.events.webhook-itest.cfg";
  private static final String MAILDIR_CFG = "etc/org.postilion.queue-itest-events.cfg";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<JsonNode> records = new CopyOnWriteArrayList<>();
  private static HttpServer endpoint;

  @Override
  protected Option[] extraOptions() {
    String port = String.valueOf(freePort());
    return new Option[] {
      systemProperty(WEBHOOK_PORT_PROPERTY).value(port),
      editConfigurationFilePut(WEBHOOK_CFG, "url", "http://127.0.0.1:" + port + "/events"),
      editConfigurationFilePut(WEBHOOK_CFG, "batch_size", "5"),
      editConfigurationFilePut(WEBHOOK_CFG, "retry.initial", "200ms"),
      editConfigurationFilePut(WEBHOOK_CFG, "retry.max", "1s"),
      editConfigurationFilePut(WEBHOOK_CFG, "auth.bearer", "itest-token"),
      editConfigurationFilePut(
          "etc/org.postilion.queue.manager.cfg", "log_headers", "Subject, X-Customer-*"),
      editConfigurationFilePut(MAILDIR_CFG, "match.domain", "events.test"),
      editConfigurationFilePut(MAILDIR_CFG, "protocol", "maildir"),
      editConfigurationFilePut(MAILDIR_CFG, "maildir.path", "${karaf.data}/itest-maildir/{user}"),
    };
  }

  @Before
  public void startEndpoint() throws IOException {
    if (endpoint == null) {
      endpoint = endpoint();
    }
  }

  @After
  public void keepEndpointUp() throws IOException {
    if (endpoint == null) {
      endpoint = endpoint();
    }
  }

  /** The test's HTTP server: keeps every record of every batch POSTed with the right token. */
  private static HttpServer endpoint() throws IOException {
    HttpServer server =
        HttpServer.create(
            new InetSocketAddress("127.0.0.1", Integer.getInteger(WEBHOOK_PORT_PROPERTY)), 0);
    server.createContext(
        "/events",
        exchange -> {
          int status = 401;
          if ("Bearer itest-token".equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            JsonNode batch = JSON.readTree(exchange.getRequestBody());
            batch.forEach(records::add);
            status = 200;
          }
          exchange.sendResponseHeaders(status, -1);
          exchange.close();
        });
    server.start();
    return server;
  }

  private static List<JsonNode> recordsFor(String type, String recipient) {
    return records.stream()
        .filter(r -> type.equals(r.path("type").asText()))
        .filter(r -> recipient.equals(r.path("recipient").asText()))
        .toList();
  }

  private static String send(String recipient) throws Exception {
    String content =
        "From: sender@example.org\r\nTo: "
            + recipient
            + "\r\nSubject: events\r\nX-Customer-Id: 7\r\n\tfolded\r\nX-Other: no\r\n"
            + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n";
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      return smtp.sendMessage("sender@example.org", recipient, content);
    }
  }

  @Test
  public void deliveryBounceAndExpirationReachTheWebhookWithKumoMtasFields() throws Exception {
    try (TestSmtpServer mx = new TestSmtpServer(null)) {
      mx.replies(command -> command.startsWith("RCPT") ? "550 5.1.1 no such user here" : null);
      writeConfigs(
          EtcFile.queue(
              "itest-events-bounce",
              "match.domain = bounce.events.test\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
                  + mx.port()
                  + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\n"),
          // No maildir.path: every attempt fails for a while, then the message is too old.
          EtcFile.queue(
              "itest-events-expire",
              "match.domain = expire.events.test\nprotocol = maildir\nretry.interval = 1s\n"
                  + "max_age = 3s\n"));
      assertTrue(send("dora@events.test").startsWith("250 "));
      assertTrue(send("eve@bounce.events.test").startsWith("250 "));
      assertTrue(send("finn@expire.events.test").startsWith("250 "));

      await(
          "the Delivery record",
          WAIT,
          () -> recordsFor("Delivery", "dora@events.test").size() == 1);
      await(
          "the Bounce record",
          WAIT,
          () -> recordsFor("Bounce", "eve@bounce.events.test").size() == 1);
      await(
          "the Expiration record",
          WAIT,
          () -> recordsFor("Expiration", "finn@expire.events.test").size() == 1);

      JsonNode delivery = recordsFor("Delivery", "dora@events.test").get(0);
      assertEquals("sender@example.org", delivery.path("sender").asText());
      assertEquals("events.test", delivery.path("queue").asText());
      assertEquals("Maildir", delivery.path("delivery_protocol").asText());
      assertEquals("ESMTP", delivery.path("reception_protocol").asText());
      assertEquals(1, delivery.path("num_attempts").asInt());
      assertTrue(delivery.toString(), delivery.path("size").asLong() > 0);
      assertTrue(delivery.toString(), delivery.path("id").asText().length() > 10);
      assertTrue(delivery.toString(), delivery.path("timestamp").isIntegralNumber());
      assertTrue(delivery.toString(), delivery.path("created").isIntegralNumber());
      assertEquals(
          delivery.path("id").asText(),
          recordsFor("Reception", "dora@events.test").get(0).path("id").asText());
      // log_headers: the fields named, captured at reception, in every record of the message.
      JsonNode headers = delivery.path("headers");
      assertEquals(delivery.toString(), 2, headers.size());
      assertEquals("events", headers.path("Subject").asText());
      assertEquals("7\tfolded", headers.path("X-Customer-Id").asText());
      assertEquals(
          delivery.path("headers"),
          recordsFor("Reception", "dora@events.test").get(0).path("headers"));
      assertEquals(
          delivery.path("headers"),
          recordsFor("Bounce", "eve@bounce.events.test").get(0).path("headers"));

      JsonNode bounce = recordsFor("Bounce", "eve@bounce.events.test").get(0);
      assertEquals(550, bounce.path("response").path("code").asInt());
      assertEquals(5, bounce.path("response").path("enhanced_code").path("class").asInt());
      assertEquals(1, bounce.path("response").path("enhanced_code").path("subject").asInt());
      assertEquals(1, bounce.path("response").path("enhanced_code").path("detail").asInt());
      assertEquals(
          "RCPT TO:<eve@bounce.events.test>\r\n", bounce.path("response").path("command").asText());
      assertTrue(
          bounce.toString(),
          bounce.path("response").path("content").asText().contains("no such user"));
      assertEquals("127.0.0.1", bounce.path("peer_address").path("addr").asText());
      assertEquals("ESMTP", bounce.path("delivery_protocol").asText());

      JsonNode expiration = recordsFor("Expiration", "finn@expire.events.test").get(0);
      assertEquals(551, expiration.path("response").path("code").asInt());
      assertTrue(expiration.toString(), expiration.path("num_attempts").asInt() >= 1);
      assertTrue(
          recordsFor("TransientFailure", "finn@expire.events.test").size()
              >= expiration.path("num_attempts").asInt());
      // Every record the webhook got so far, of every type, is in KumoMTA's shape.
      records.forEach(r -> KumoRecordShape.check(r.toString()));
    }
  }

  @Test
  public void aDeliveryOverTlsIsRecordedWithItsSiteSourceSessionAndTls() throws Exception {
    Path certificates = Path.of(System.getProperty("java.io.tmpdir"), "events-it-tls");
    java.nio.file.Files.createDirectories(certificates);
    try (TestSmtpServer mx =
        new TestSmtpServer(SelfSignedTls.serverContext(certificates, "mx.tls.events.test"))) {
      writeQueueConfig(
          "itest-events-tls",
          "match.domain = tls.events.test\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
              + mx.port()
              + "\nsmtp.allow_loopback = true\nsmtp.tls = opportunistic_insecure\n");
      assertTrue(send("jo@tls.events.test").startsWith("250 "));
      assertTrue(send("kim@tls.events.test").startsWith("250 "));
      await(
          "both Delivery records",
          WAIT,
          () ->
              recordsFor("Delivery", "jo@tls.events.test").size() == 1
                  && recordsFor("Delivery", "kim@tls.events.test").size() == 1);
      JsonNode jo =
          KumoRecordShape.check(recordsFor("Delivery", "jo@tls.events.test").get(0).toString());
      JsonNode kim =
          KumoRecordShape.check(recordsFor("Delivery", "kim@tls.events.test").get(0).toString());
      assertTrue(jo.toString(), jo.path("site").asText().endsWith(":" + mx.port()));
      assertEquals("unspecified", jo.path("egress_source").asText());
      assertEquals("unspecified", jo.path("egress_pool").asText());
      assertTrue(
          jo.toString(),
          jo.path("source_address").path("address").asText().startsWith("127.0.0.1:"));
      assertTrue(jo.toString(), jo.path("tls_protocol_version").asText().startsWith("TLSv1."));
      assertFalse(jo.toString(), jo.path("tls_cipher").asText().isEmpty());
      assertEquals("CN=mx.tls.events.test", jo.path("tls_peer_subject_name").path(0).asText());
      assertEquals(".\r\n", jo.path("response").path("command").asText());
      assertEquals(2, jo.path("response").path("enhanced_code").path("class").asInt());
      assertFalse(jo.toString(), jo.path("session_id").asText().isEmpty());
      assertEquals(kim.path("nodeid").asText(), jo.path("nodeid").asText());
      // The node keeps its id: every record of this run names the same node.
      assertEquals(1, records.stream().map(r -> r.path("nodeid").asText()).distinct().count());
      JsonNode reception = recordsFor("Reception", "jo@tls.events.test").get(0);
      KumoRecordShape.check(reception.toString());
      assertEquals("", reception.path("site").asText());
      assertEquals(250, reception.path("response").path("code").asInt());
      assertTrue(reception.path("response").path("enhanced_code").isNull());
      assertFalse(reception.toString(), reception.path("session_id").asText().isEmpty());
      // Two clients' connections, two reception sessions.
      assertFalse(
          reception
              .path("session_id")
              .equals(recordsFor("Reception", "kim@tls.events.test").get(0).path("session_id")));
    }
  }

  private static final String OUTAGE = "Event webhook itest cannot deliver to http://127.0.0.1:";

  @Test
  public void recordsMadeWhileTheEndpointIsDownArriveOnceItIsBack() throws Exception {
    int outages = occurrences(karafLog(), OUTAGE);
    endpoint.stop(0);
    endpoint = null;
    List<String> recipients = List.of("gus@events.test", "hana@events.test", "ivo@events.test");
    for (String recipient : recipients) {
      assertTrue(send(recipient).startsWith("250 "));
    }
    for (String recipient : recipients) {
      await(
          "the Delivery of " + recipient + " in the event log",
          WAIT,
          () -> hasRecord("Delivery", recipient, "\"delivery_protocol\":\"Maildir\""));
    }
    // The webhook tried, failed and says so once per outage: only then is "nothing arrived" news.
    await("the webhook's outage logged", WAIT, () -> occurrences(karafLog(), OUTAGE) > outages);
    for (String recipient : recipients) {
      assertTrue(recordsFor("Delivery", recipient).isEmpty());
    }

    endpoint = endpoint();
    for (String recipient : recipients) {
      await(
          "the Reception and Delivery of " + recipient + " at the endpoint",
          WAIT,
          () ->
              recordsFor("Reception", recipient).size() == 1
                  && recordsFor("Delivery", recipient).size() == 1);
    }
    await("the recovery logged", WAIT, () -> karafLog().contains("Event webhook itest reaches"));
  }

  /**
   * The events bundle stopped while mail flows (an update, an operator): its subscribers are
   * durable, so the records made meanwhile are written to the log and sent to the webhook, once
   * each, when it starts again.
   */
  @Test
  public void stoppingTheEventsBundleWhileMailFlowsLosesNoRecord() throws Exception {
    Bundle events = bundle("org.postilion.events");
    List<String> recipients = List.of("jan@events.test", "kim@events.test", "lea@events.test");
    events.stop();
    try {
      for (String recipient : recipients) {
        assertTrue(send(recipient).startsWith("250 "));
      }
      for (String recipient : recipients) {
        String user = recipient.substring(0, recipient.indexOf('@'));
        Path box = data().resolve("itest-maildir").resolve(user);
        await(
            "the message for " + recipient + " delivered",
            WAIT,
            () -> newMessages(box).size() == 1);
      }
      for (String recipient : recipients) {
        assertFalse(hasRecord("Delivery", recipient, ""));
        assertTrue(recordsFor("Delivery", recipient).isEmpty());
      }
    } finally {
      events.start();
    }
    for (String recipient : recipients) {
      await(
          "the Reception and Delivery of " + recipient + " in the log and at the endpoint",
          WAIT,
          () ->
              hasRecord("Delivery", recipient, "\"delivery_protocol\":\"Maildir\"")
                  && hasRecord("Reception", recipient, "")
                  && recordsFor("Reception", recipient).size() == 1
                  && recordsFor("Delivery", recipient).size() == 1);
      assertEquals(
          recipient,
          1,
          eventLog()
              .lines()
              .filter(l -> l.contains("\"type\":\"Delivery\""))
              .filter(l -> l.contains("\"recipient\":\"" + recipient + "\""))
              .count());
    }
  }
}
