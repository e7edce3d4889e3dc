package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.MimeConfig;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.SelfSignedTls;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;

/**
 * The HTTP API in the real distribution, through real HTTP requests: injection (builder and raw) to
 * maildirs read back with mime4j, the admin endpoints, /metrics, access control and bad input.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HttpApiIT extends PostilionTestSupport {
  private static final String HTTP_PORT_PROPERTY = "postilion.itest.http.port";
  private static final String QUEUE_CFG = "etc/org.postilion.queue-itest-http.cfg";
  private static final String SECURITY_CFG = "org.postilion.http.security.cfg";
  private static final String INJECT_CFG = "etc/org.postilion.http.inject.cfg";
  private static final Duration RENDER_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(6);

  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @Override
  protected Option[] extraOptions() {
    String httpPort = String.valueOf(freePort());
    return new Option[] {
      editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", httpPort),
      systemProperty(HTTP_PORT_PROPERTY).value(httpPort),
      editConfigurationFilePut(QUEUE_CFG, "match.domain", "http.test"),
      // A provider of our own: the maildir site is the path root, .../itest-maildir.
      editConfigurationFilePut("etc/org.postilion.queue.providers.cfg", "itest", "itest-maildir"),
      editConfigurationFilePut(QUEUE_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          QUEUE_CFG, "maildir.path", "${karaf.data}/itest-maildir/{tenant}/{campaign}/{user}"),
      // Short template limits, so that a template that loops for ever is stopped by the clock.
      editConfigurationFilePut(INJECT_CFG, "render_timeout", RENDER_TIMEOUT.toSeconds() + "s"),
      editConfigurationFilePut(INJECT_CFG, "request_timeout", REQUEST_TIMEOUT.toSeconds() + "s"),
      editConfigurationFilePut(INJECT_CFG, "max_loop_iterations", "1000000000"),
      editConfigurationFilePut(INJECT_CFG, "render_threads", "2"),
    };
  }

  /** Where the maildir protocol puts a recipient's mail; no tenant leaves its level out. */
  private static Path maildir(String tenant, String campaign, String user) {
    Path root = data().resolve("itest-maildir");
    return (tenant == null ? root : root.resolve(tenant)).resolve(campaign).resolve(user);
  }

  @Before
  public void awaitHttpListener() throws InterruptedException {
    await(
        "the HTTP API's liveness answer",
        WAIT,
        () -> {
          try {
            return get("/api/check-liveness/v1", null).statusCode() == 200;
          } catch (IOException e) {
            return false;
          }
        });
  }

  // --- injection ---

  @Test
  public void builderMessageLandsInTheMaildirAsMimeThatMime4jReadsBack() throws Exception {
    byte[] pdf = new byte[3000];
    for (int i = 0; i < pdf.length; i++) {
      pdf[i] = (byte) (i * 31);
    }
    HttpResponse<String> response =
        post(
            "/api/inject/v1",
            """
            {"envelope_sender": "news@example.com",
             "recipients": [{"email": "zoe@http.test", "name": "Zoë Ödegaard"}],
             "content": {
               "subject": "Grüße aus Köln – 東京",
               "from": {"email": "news@example.com", "name": "Die Zeitung"},
               "headers": {"X-Campaign": "mime"},
               "text_body": "Plain text, ümlauts and a long line %s",
               "html_body": "<p>HTML <b>body</b></p>",
               "attachments": [{"data": "%s", "base64": true,
                                "content_type": "application/pdf", "file_name": "report.pdf"}]}}
            """
                .formatted("x".repeat(120), Base64.getEncoder().encodeToString(pdf)));
    assertEquals(response.body(), 200, response.statusCode());
    assertTrue(response.body(), response.body().contains("\"success_count\":1"));

    Path box = maildir(null, "mime", "zoe");
    await("the message in " + box, WAIT, () -> newMessages(box).size() == 1);
    byte[] delivered = Files.readAllBytes(newMessages(box).get(0));
    Message message =
        new DefaultMessageBuilder() {
          {
            setMimeEntityConfig(MimeConfig.STRICT);
          }
        }.parseMessage(new ByteArrayInputStream(delivered));

    assertEquals("Grüße aus Köln – 東京", message.getSubject());
    assertEquals("Zoë Ödegaard", ((Mailbox) message.getTo().get(0)).getName());
    assertEquals("Die Zeitung", message.getFrom().get(0).getName());
    assertEquals("multipart/mixed", message.getMimeType());
    Multipart mixed = (Multipart) message.getBody();
    assertEquals(2, mixed.getCount());
    Entity alternative = mixed.getBodyParts().get(0);
    assertEquals("multipart/alternative", alternative.getMimeType());
    List<Entity> texts = ((Multipart) alternative.getBody()).getBodyParts();
    assertEquals("text/plain", texts.get(0).getMimeType());
    assertEquals("quoted-printable", texts.get(0).getContentTransferEncoding());
    assertEquals(
        "Plain text, ümlauts and a long line " + "x".repeat(120), text(texts.get(0)).trim());
    assertEquals("text/html", texts.get(1).getMimeType());
    assertEquals("<p>HTML <b>body</b></p>", text(texts.get(1)).trim());
    Entity attachment = mixed.getBodyParts().get(1);
    assertEquals("application/pdf", attachment.getMimeType());
    assertEquals("report.pdf", attachment.getFilename());
    assertEquals("base64", attachment.getContentTransferEncoding());
    assertTrue(java.util.Arrays.equals(pdf, bytes(attachment)));
    // Only 7-bit bytes on the wire, lines within RFC 5322's limit.
    String wire = new String(delivered, StandardCharsets.ISO_8859_1);
    assertTrue(wire.chars().allMatch(c -> c < 128));
    assertTrue(wire.lines().allMatch(line -> line.length() <= 998));

    // Operators see the servlets with Pax Web's own command.
    String servlets = shell("web:servlet-list");
    assertTrue(servlets, servlets.contains("postilion-inject"));
    assertTrue(servlets, servlets.contains("/api/inject/*"));
  }

  @Test
  public void eachRecipientGetsItsOwnSubstitutions() throws Exception {
    HttpResponse<String> response =
        post(
            "/api/inject/v1",
            """
            {"envelope_sender": "shop@example.com",
             "substitutions": {"shop": "Corner Shop", "items": ["tea", "cake"]},
             "recipients": [
               {"email": "amy@http.test", "substitutions": {"name": "Amy", "vip": true}},
               {"email": "ben@http.test", "substitutions": {"name": "Ben", "vip": false}}],
             "content": {"subject": "{{ shop }} for {{ name }}", "headers": {"X-Campaign": "subst"},
               "text_body": "Dear {{ name }}{% if vip %} (VIP){% endif %}:{% for i in items %} {{ loop.index + 1 }}.{{ i }}{% endfor %}"}}
            """);
    assertEquals(response.body(), 200, response.statusCode());
    for (String[] expected :
        List.of(
            new String[] {"amy", "Corner Shop for Amy", "Dear Amy (VIP): 1.tea 2.cake"},
            new String[] {"ben", "Corner Shop for Ben", "Dear Ben: 1.tea 2.cake"})) {
      Path box = maildir(null, "subst", expected[0]);
      await("the message in " + box, WAIT, () -> newMessages(box).size() == 1);
      Message message =
          new DefaultMessageBuilder().parseMessage(Files.newInputStream(newMessages(box).get(0)));
      assertEquals(expected[1], message.getSubject());
      assertEquals(expected[0] + "@http.test", ((Mailbox) message.getTo().get(0)).getAddress());
      assertEquals(expected[2], text(message).trim());
    }
  }

  @Test
  public void rawInjectionDeliversTheBytesAsSent() throws Exception {
    String sent =
        "From: app@example.com\r\nTo: raw@http.test\r\nSubject: raw\r\nX-Campaign: raw\r\n"
            + "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <raw-1@example.com>\r\n"
            + "\r\nRaw body.\r\n.leading dot\r\n";
    HttpResponse<String> response =
        client.send(
            request(
                    "/api/inject/raw/v1?envelope_sender=app%40example.com&recipient=raw%40http.test")
                .header("Content-Type", "message/rfc822")
                .header("X-Envelope-Recipient", "raw2@http.test")
                .POST(BodyPublishers.ofString(sent))
                .build(),
            BodyHandlers.ofString());
    assertEquals(response.body(), 200, response.statusCode());
    assertTrue(response.body(), response.body().contains("\"success_count\":2"));
    for (String user : List.of("raw", "raw2")) {
      Path box = maildir(null, "raw", user);
      await("the message in " + box, WAIT, () -> newMessages(box).size() == 1);
      assertDeliveredAsSent(
          sent.replace("X-Campaign: raw\r\n", ""), Files.readAllBytes(newMessages(box).get(0)));
    }
    assertTrue(
        eventLog()
            .lines()
            .anyMatch(
                l ->
                    l.contains("\"type\":\"Reception\"")
                        && l.contains("\"recipient\":\"raw2@http.test\"")
                        && l.contains("\"reception_protocol\":\"HTTP\"")));
  }

  // --- template limits ---

  /**
   * Fifty templates that would loop for hours, at once: each is answered with an error within the
   * request timeout, while liveness answers within a second, SMTP greets, and an ordinary injection
   * still goes through (once a render thread is free: it may be told to retry).
   */
  @Test
  public void templatesThatLoopForeverHoldNeitherTheServerNorOtherInjections() throws Exception {
    String loopForever =
        """
        {"envelope_sender": "loop@example.com", "recipients": [{"email": "never@http.test"}],
         "content": {"subject": "loop", "headers": {"X-Campaign": "loop"},
           "text_body": "{% for i in range(0,10000) %}{% for j in range(0,10000) %}{% endfor %}{% endfor %}"}}
        """;
    int parallel = 50;
    List<CompletableFuture<long[]>> answers = new ArrayList<>();
    long stormStart = System.nanoTime();
    for (int i = 0; i < parallel; i++) {
      long sent = System.nanoTime();
      answers.add(
          client
              .sendAsync(
                  request("/api/inject/v1")
                      .header("Content-Type", "application/json")
                      .POST(BodyPublishers.ofString(loopForever))
                      .build(),
                  BodyHandlers.ofString())
              .thenApply(
                  response -> {
                    assertTrue(
                        response.statusCode() + " " + response.body(),
                        (response.statusCode() == 422 && response.body().contains("render_timeout"))
                            || response.statusCode() == 503);
                    assertFalse(response.body(), response.body().contains("Exception"));
                    return new long[] {response.statusCode(), System.nanoTime() - sent};
                  }));
    }

    // While they run: liveness, SMTP and an ordinary injection.
    long slowestLiveness = 0;
    long slowestGreeting = 0;
    HttpResponse<String> ordinary = null;
    String ordinaryJson =
        """
        {"envelope_sender": "ok@example.com", "recipients": [{"email": "storm@http.test", "substitutions": {"n": 42}}],
         "content": {"subject": "n = {{ n }}", "headers": {"X-Campaign": "storm"}, "text_body": "{% for i in range(1, 3) %}{{ i }}{% endfor %}"}}
        """;
    long deadline = System.nanoTime() + REQUEST_TIMEOUT.multipliedBy(3).toNanos();
    while (!CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).isDone()
        || ordinary == null
        || ordinary.statusCode() != 200) {
      assertTrue("the storm lasts too long", System.nanoTime() < deadline);
      long asked = System.nanoTime();
      HttpResponse<String> alive =
          client.send(
              request("/api/check-liveness/v1").timeout(Duration.ofSeconds(1)).GET().build(),
              BodyHandlers.ofString());
      assertEquals(200, alive.statusCode());
      slowestLiveness = Math.max(slowestLiveness, System.nanoTime() - asked);
      asked = System.nanoTime();
      try (SmtpClient smtp = new SmtpClient(smtpPort())) {
        assertTrue(smtp.reply().startsWith("220"));
      }
      slowestGreeting = Math.max(slowestGreeting, System.nanoTime() - asked);
      if (ordinary == null || ordinary.statusCode() == 503) {
        ordinary = post("/api/inject/v1", ordinaryJson);
        assertTrue(
            ordinary.statusCode() + " " + ordinary.body(),
            ordinary.statusCode() == 200 || ordinary.statusCode() == 503);
      }
      Thread.sleep(200);
    }
    assertTrue(
        "liveness took " + slowestLiveness / 1_000_000 + "ms",
        slowestLiveness < Duration.ofSeconds(1).toNanos());
    assertTrue(
        "the SMTP greeting took " + slowestGreeting / 1_000_000 + "ms",
        slowestGreeting < Duration.ofSeconds(2).toNanos());

    long slowest = 0;
    int refusedByTime = 0;
    for (CompletableFuture<long[]> answer : answers) {
      long[] statusAndTime = answer.get();
      slowest = Math.max(slowest, statusAndTime[1]);
      refusedByTime += statusAndTime[0] == 422 ? 1 : 0;
    }
    assertTrue("some loops ran until render_timeout", refusedByTime >= 2);
    assertTrue(
        "the slowest answer took " + slowest / 1_000_000 + "ms",
        slowest < REQUEST_TIMEOUT.plusSeconds(3).toNanos());
    assertTrue(System.nanoTime() - stormStart < REQUEST_TIMEOUT.multipliedBy(3).toNanos());

    Path box = maildir(null, "storm", "storm");
    await("the ordinary injection in " + box, WAIT, () -> !newMessages(box).isEmpty());
    Message message =
        new DefaultMessageBuilder().parseMessage(Files.newInputStream(newMessages(box).get(0)));
    assertEquals("n = 42", message.getSubject());
    assertEquals("123", text(message).trim());
    assertFalse(hasRecord("Reception", "never@http.test", ""));

    // Afterwards an ordinary injection goes through at once.
    HttpResponse<String> after = post("/api/inject/v1", ordinaryJson.replace("storm@", "calm@"));
    assertEquals(after.body(), 200, after.statusCode());
  }

  /** Templates cannot call methods: the JVM's default locale stays as it is. */
  @Test
  public void templatesCannotCallMethodsOrReadFiles() throws Exception {
    java.util.Locale before = java.util.Locale.getDefault();
    for (String template :
        List.of(
            "{{ locale.setDefault(locale.forLanguageTag('tr-TR')) }}",
            "{{ (1).getLong('user.home') }}",
            "{% include '/etc/passwd' %}",
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}")) {
      HttpResponse<String> response =
          post(
              "/api/inject/v1",
              """
              {"envelope_sender": "a@example.com", "recipients": [{"email": "sandbox@http.test"}],
               "content": {"text_body": %s}}
              """
                  .formatted("\"" + template.replace("\\", "\\\\").replace("\"", "\\\"") + "\""));
      assertTrue(
          response.statusCode() + " " + response.body(),
          response.statusCode() == 400 || response.statusCode() == 422);
      assertTrue(response.body(), response.body().contains("content.text_body"));
      assertFalse(response.body(), response.body().contains("Exception"));
      assertFalse(response.body(), response.body().contains("Error"));
    }
    assertEquals(before, java.util.Locale.getDefault());
    assertFalse(hasRecord("Reception", "sandbox@http.test", ""));
  }

  // --- admin API ---

  @Test
  public void adminEndpointsDoWhatTheShellDoes() throws Exception {
    String queue = "hold:acme@http.test";
    // Suspend (KumoMTA's request body), then inject: the mail waits and shows in the summary, the
    // listing and the gauges.
    HttpResponse<String> suspended =
        post(
            "/api/admin/suspend/v1",
            "{\"queue_names\": [\"" + queue + "\"], \"reason\": \"itest\", \"duration\": \"1h\"}");
    assertEquals(suspended.body(), 200, suspended.statusCode());
    JsonNode suspendReply = JSON.readTree(suspended.body());
    assertEquals(suspended.body(), List.of("id"), fieldNames(suspendReply));
    String suspensionId = suspendReply.path("id").asText();
    JsonNode suspensions = JSON.readTree(get("/api/admin/suspend/v1", null).body());
    assertTrue(suspensions.isArray());
    JsonNode listedSuspension = suspensions.get(0);
    assertEquals(
        List.of("id", "campaign", "tenant", "domain", "reason", "duration"),
        fieldNames(listedSuspension));
    assertEquals(suspensionId, listedSuspension.path("id").asText());
    assertEquals("itest", listedSuspension.path("reason").asText());
    assertTrue(
        listedSuspension.toString(),
        listedSuspension.path("duration").asText().matches("59m \\d+s.*"));

    String raw =
        "From: a@example.com\r\nX-Tenant: acme\r\nX-Campaign: hold\r\nSubject: held\r\n\r\nx\r\n";
    assertEquals(200, postRaw("held@http.test", raw).statusCode());
    await(
        "the held recipient in the summary",
        WAIT,
        () -> body("/api/admin/queue-summary/v1").contains("\"name\":\"" + queue + "\""));
    String summary = body("/api/admin/queue-summary/v1");
    assertTrue(summary, summary.contains("\"state\":\"suspended\""));
    String listed = body("/api/admin/inspect-sched-q/v1?tenant=acme&campaign=hold");
    assertTrue(listed, listed.contains("\"recipient\":\"held@http.test\""));
    String messageId = field(listed, "message_id");
    String inspected = body("/api/admin/inspect-message/v1?id=" + messageId);
    assertTrue(inspected, inspected.contains("\"sender\":\"a@example.com\""));
    assertTrue(inspected, inspected.contains("Subject: held"));
    // One object, one set of fields: the console's --json is the admin API's answer.
    assertEquals(inspected.trim(), shell("mta:message-show --json " + messageId).trim());
    assertEquals(
        body("/api/admin/inspect-sched-q/v1?queue=" + queue).trim(),
        shell("mta:queue-list --json --queue " + queue).trim());
    assertEquals(404, get("/api/admin/inspect-message/v1?id=nosuch", null).statusCode());
    // KumoMTA's inspect-sched-q: one queue by name, its messages and configuration.
    JsonNode sched =
        JSON.readTree(body("/api/admin/inspect-sched-q/v1?want_body=true&queue_name=" + queue));
    assertEquals(
        List.of(
            "queue_name",
            "messages",
            "num_scheduled",
            "queue_config",
            "delayed_metric",
            "now",
            "last_changed"),
        fieldNames(sched));
    assertEquals(queue, sched.path("queue_name").asText());
    assertEquals(1, sched.path("num_scheduled").asInt());
    JsonNode entry = sched.path("messages").get(0);
    assertEquals(messageId, entry.path("id").asText());
    assertEquals("a@example.com", entry.path("message").path("sender").asText());
    assertEquals("held@http.test", entry.path("message").path("recipient").asText());
    assertTrue(
        entry.toString(), entry.path("message").path("data").asText().contains("Subject: held"));
    assertEquals("acme", entry.path("message").path("meta").path("tenant").asText());
    assertTrue(
        sched.toString(),
        sched.path("queue_config").path("retry_interval").asText().matches("\\d+[a-z]+.*"));
    assertEquals(
        404, get("/api/admin/inspect-sched-q/v1?queue_name=no.such.test", null).statusCode());
    assertTrue(metrics().contains("scheduled_count{queue=\"" + queue + "\"} 1"));

    HttpResponse<String> resumed =
        send("DELETE", "/api/admin/suspend/v1", "{\"id\": \"" + suspensionId + "\"}");
    assertEquals(resumed.body(), 200, resumed.statusCode());
    assertEquals("removed " + suspensionId, resumed.body());
    Path box = maildir("acme", "hold", "held");
    await("the released message in " + box, WAIT, () -> newMessages(box).size() == 1);
    assertEquals(
        404, send("DELETE", "/api/admin/suspend/v1?id=" + suspensionId, null).statusCode());
    await(
        "the queue's gauges back to nothing",
        WAIT,
        () -> !metrics().contains("scheduled_count{queue=\"" + queue + "\"}"));

    // A ready queue can be held too, by its name, and released by id.
    String readyQueue = "unspecified->mx.example.net@smtp_client";
    HttpResponse<String> readyHeld =
        post(
            "/api/admin/suspend-ready-q/v1",
            "{\"name\": \"" + readyQueue + "\", \"duration\": \"1h\", \"reason\": \"itest\"}");
    assertEquals(readyHeld.body(), 200, readyHeld.statusCode());
    String readyId = JSON.readTree(readyHeld.body()).path("id").asText();
    JsonNode readyList = JSON.readTree(body("/api/admin/suspend-ready-q/v1"));
    assertEquals(
        List.of("id", "name", "reason", "duration", "expires"), fieldNames(readyList.get(0)));
    assertEquals(readyQueue, readyList.get(0).path("name").asText());
    assertFalse(body("/api/admin/suspend/v1").contains(readyId));
    assertEquals(
        "removed " + readyId,
        send("DELETE", "/api/admin/suspend-ready-q/v1?id=" + readyId, null).body());
    assertEquals("[]", body("/api/admin/suspend-ready-q/v1").trim());
    assertEquals(
        422, post("/api/admin/suspend-ready-q/v1", "{\"reason\": \"no name\"}").statusCode());

    // A bounce catches mail that arrives while it lasts; KumoMTA's request and answer.
    assertEquals(
        422,
        post("/api/admin/bounce/v1", "{\"domain\": \"x.test\", \"reason\": \"r\", \"oops\": 1}")
            .statusCode());
    HttpResponse<String> bounce =
        post(
            "/api/admin/bounce/v1",
            "{\"domain\": \"bounce.http.test\", \"duration\": \"10m\", \"reason\": \"itest\"}");
    assertEquals(bounce.body(), 200, bounce.statusCode());
    JsonNode bounceReply = JSON.readTree(bounce.body());
    assertEquals(List.of("id", "bounced", "total_bounced"), fieldNames(bounceReply));
    assertTrue(bounceReply.path("bounced").isObject());
    assertTrue(bounceReply.path("total_bounced").isIntegralNumber());
    String bounceId = bounceReply.path("id").asText();
    assertEquals(200, postRaw("gone@bounce.http.test", raw).statusCode());
    await(
        "an AdminBounce record",
        WAIT,
        () -> hasRecord("AdminBounce", "gone@bounce.http.test", "administratively bounced: itest"));
    JsonNode bounceEntry = JSON.readTree(body("/api/admin/bounce/v1")).get(0);
    assertEquals(
        List.of(
            "id",
            "campaign",
            "tenant",
            "domain",
            "routing_domain",
            "reason",
            "duration",
            "bounced",
            "total_bounced"),
        fieldNames(bounceEntry));
    assertEquals(bounceId, bounceEntry.path("id").asText());
    assertEquals("bounce.http.test", bounceEntry.path("domain").asText());
    assertEquals(
        bounceEntry.toString(),
        1,
        bounceEntry.path("bounced").path("hold:acme@bounce.http.test").asInt());
    assertEquals(1, bounceEntry.path("total_bounced").asInt());
    HttpResponse<String> cancelled =
        send("DELETE", "/api/admin/bounce/v1", "{\"id\": \"" + bounceId + "\"}");
    assertEquals("removed " + bounceId, cancelled.body());
    assertEquals(
        404, send("DELETE", "/api/admin/bounce/v1", "{\"id\": \"" + bounceId + "\"}").statusCode());
    assertFalse(body("/api/admin/bounce/v1").contains(bounceId));

    // Mail that failed waits for its retry; retry-now makes it due at once.
    writeQueueConfig("itest-http-retry", "match.domain = retry.http.test\nprotocol = maildir\n");
    assertEquals(
        200,
        postRaw("again@retry.http.test", "From: a@example.com\r\nSubject: r\r\n\r\nx\r\n")
            .statusCode());
    await(
        "a transient failure",
        WAIT,
        () -> hasRecord("TransientFailure", "again@retry.http.test", "maildir.path is not set"));
    await(
        "the delayed gauge",
        WAIT,
        () -> metrics().contains("delayed_count{queue=\"retry.http.test\"} 1"));
    assertTrue(body("/api/admin/protocols/v1").contains("\"name\":\"maildir\""));
    HttpResponse<String> retried =
        post("/api/admin/retry-now/v1", "{\"domain\": \"retry.http.test\"}");
    assertEquals(retried.body(), 200, retried.statusCode());
    assertTrue(retried.body(), retried.body().contains("\"recipients\":1"));
    await(
        "the second attempt over and its retry scheduled",
        WAIT,
        () -> {
          String waiting = body("/api/admin/inspect-sched-q/v1?domain=retry.http.test");
          return waiting.contains("\"attempts\":2") && waiting.contains("\"state\":\"scheduled\"");
        });
    // Rebind applies the configuration in force now to waiting mail (held mail stays held).
    HttpResponse<String> rebound =
        post("/api/admin/rebind/v1", "{\"domain\": \"retry.http.test\", \"reason\": \"moved\"}");
    assertEquals(rebound.body(), 200, rebound.statusCode());
    assertTrue(rebound.body(), rebound.body().contains("\"recipients\":1"));
    await(
        "an AdminRebind record",
        WAIT,
        () -> hasRecord("AdminRebind", "again@retry.http.test", "rebound: moved"));

    HttpResponse<String> noSelector = post("/api/admin/retry-now/v1", "{}");
    assertEquals(400, noSelector.statusCode());
    assertTrue(
        noSelector.body(), noSelector.body().contains("name a domain, tenant, campaign or queue"));

    // The OpenAPI document describes every endpoint used here.
    String openapi = body("/api/openapi.json");
    for (String path :
        List.of(
            "/api/inject/v1",
            "/api/inject/raw/v1",
            "/api/check-liveness/v1",
            "/api/admin/queue-summary/v1",
            "/api/admin/inspect-message/v1",
            "/api/admin/inspect-sched-q/v1",
            "/api/admin/suspend/v1",
            "/api/admin/suspend-ready-q/v1",
            "/api/admin/bounce/v1",
            "/api/admin/retry-now/v1",
            "/api/admin/rebind/v1",
            "/api/admin/protocols/v1",
            "/api/admin/inspect-ready-q/v1",
            "/api/admin/ready-q-states/v1",
            "/api/admin/abort-ready-q-conn/v1",
            "/metrics")) {
      assertTrue(path, openapi.contains("\"" + path + "\""));
    }
  }

  @Test
  public void aStuckSessionShowsInInspectReadyQAndAnOperatorAbortsIt() throws Exception {
    try (TestSmtpServer stuck = new TestSmtpServer(null)) {
      stuck.faults(command -> command.startsWith("MAIL") ? TestSmtpServer.Fault.SILENCE : null);
      writeQueueConfig(
          "itest-http-stuck",
          "match.domain = stuck.http.test\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
              + stuck.port()
              + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\n");
      assertEquals(
          200,
          postRaw("jam@stuck.http.test", "From: a@example.com\r\nSubject: s\r\n\r\nx\r\n")
              .statusCode());
      String name = "unspecified->127.0.0.1:" + stuck.port() + "@smtp_client";
      String path =
          "/api/admin/inspect-ready-q/v1?queue_name="
              + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8);
      await(
          "a session delivering to the silent site",
          WAIT,
          () -> {
            // 404 until the ready queue exists.
            try {
              HttpResponse<String> r = get(path, null);
              return r.statusCode() == 200 && r.body().contains("\"phase\":\"DeliveringMessage\"");
            } catch (IOException e) {
              return false;
            }
          });
      JsonNode inspected = JSON.readTree(body(path));
      assertEquals(
          List.of(
              "queue_name",
              "mx",
              "egress_source",
              "egress_pool",
              "protocol",
              "state",
              "path_config",
              "constraints",
              "dispatchers",
              "now"),
          fieldNames(inspected));
      assertEquals(name, inspected.path("queue_name").asText());
      assertEquals("unspecified", inspected.path("egress_source").asText());
      assertEquals(1, inspected.path("state").path("connection_count").asInt());
      assertTrue(inspected.path("state").path("suspended").isNull());
      assertTrue(inspected.path("constraints").path("max_concurrent_dispatchers").has("value"));
      JsonNode dispatcher = inspected.path("dispatchers").get(0);
      assertEquals(
          List.of(
              "session_id",
              "started_at",
              "age",
              "phase",
              "detail",
              "time_in_current_phase",
              "messages_delivered",
              "messages_transfailed",
              "messages_failed",
              "delivered_this_connection",
              "overall_rate_per_sec"),
          fieldNames(dispatcher));
      String session = dispatcher.path("session_id").asText();
      // KumoMTA's per ready queue series, labelled as kcli queue-summary reads them.
      String metrics = metrics();
      assertTrue(
          metrics, metrics.contains("connection_count{service=\"smtp_client:" + name + "\"} 1"));
      assertTrue(metrics, metrics.contains("ready_count{service=\"smtp_client:" + name + "\"} "));
      // The console reads > as a redirection: ready queue names are quoted there.
      String console = shell("mta:inspect-ready-q '" + name + "'");
      assertTrue(console, console.contains(session) && console.contains("DeliveringMessage"));
      JsonNode states = JSON.readTree(body("/api/admin/ready-q-states/v1"));
      assertTrue(states.toString(), states.path("states_by_ready_queue").isObject());
      assertEquals(
          404,
          post(
                  "/api/admin/abort-ready-q-conn/v1",
                  "{\"queue_name\": \"" + name + "\", \"session_id\": \"no-such-session\"}")
              .statusCode());
      HttpResponse<String> aborted =
          post(
              "/api/admin/abort-ready-q-conn/v1",
              "{\"queue_name\": \"" + name + "\", \"session_id\": \"" + session + "\"}");
      assertEquals(aborted.body(), 200, aborted.statusCode());
      assertEquals("aborted " + session, aborted.body());
      // The delivery under way fails at once, in a record of that session, and is retried later.
      await(
          "the aborted delivery's TransientFailure",
          WAIT,
          () ->
              hasRecord("TransientFailure", "jam@stuck.http.test", "\"session_id\":\"" + session));
      assertEquals(
          404, get("/api/admin/inspect-ready-q/v1?queue_name=no-such-queue", null).statusCode());
    }
  }

  @Test
  public void metricsCountersMoveAfterADelivery() throws Exception {
    long received = counter(metrics(), "total_messages_received{service=\"http_listener\"}");
    long delivered = counter(metrics(), "total_messages_delivered{service=\"maildir\"}");
    String raw = "From: a@example.com\r\nX-Campaign: metrics\r\nSubject: m\r\n\r\nx\r\n";
    assertEquals(200, postRaw("counted@http.test", raw).statusCode());
    await(
        "the delivery counted",
        WAIT,
        () -> counter(metrics(), "total_messages_delivered{service=\"maildir\"}") == delivered + 1);
    String metrics = metrics();
    assertEquals(
        received + 1, counter(metrics, "total_messages_received{service=\"http_listener\"}"));
    assertTrue(
        metrics,
        counter(metrics, "total_messages_delivered_by_queue{queue=\"metrics:http.test\"}") == 1);
    // KumoMTA's counter names have no _total suffix, which the Prometheus Java client would add to
    // a counter: they are written as gauges under KumoMTA's exact names (kcli reads names).
    assertTrue(metrics, metrics.contains("# TYPE total_messages_delivered gauge"));
    assertTrue(metrics, metrics.contains("connection_count{service=\"esmtp_listener:default\"}"));
    assertTrue(metrics, counter(metrics, "jvm_memory_used_bytes{area=\"heap\"}") > 0);
    assertTrue(metrics, counter(metrics, "spool_size_bytes") > 0);
    // Per ready queue (what kcli queue-summary sums) and per provider (kcli provider-summary).
    assertTrue(
        metrics,
        metrics.lines().anyMatch(l -> l.startsWith("total_messages_delivered{service=\"maildir:")));
    assertTrue(
        metrics, counter(metrics, "total_messages_delivered_by_provider{provider=\"itest\"}") > 0);
    assertTrue(
        metrics,
        metrics.contains(
            "queued_count_by_provider_and_pool{pool=\"unspecified\",provider=\"itest\"} "));
    assertTrue(
        metrics,
        metrics.contains(
            "connection_count_by_provider_and_pool{pool=\"unspecified\",provider=\"itest\"} "));
    assertTrue(
        metrics,
        metrics
            .lines()
            .anyMatch(l -> l.startsWith("total_messages_delivered_by_provider_and_source{")));
    // Histograms with KumoMTA's buckets: the delivery's latency and its time in the queue (ours).
    assertTrue(
        metrics, counter(metrics, "deliver_message_latency_rollup_count{service=\"maildir\"}") > 0);
    assertTrue(
        metrics,
        metrics.contains(
            "deliver_message_latency_rollup_bucket{service=\"maildir\",le=\"0.005\"}"));
    assertTrue(
        metrics,
        metrics.contains("deliver_message_latency_rollup_bucket{service=\"maildir\",le=\"+Inf\"}"));
    assertTrue(metrics, counter(metrics, "queue_residence_seconds_count{service=\"maildir\"}") > 0);
    assertTrue(metrics, metrics.contains("disk_free_bytes{name=\"spool\"}"));
    assertTrue(metrics, metrics.contains("disk_free_percent{name=\"data\"}"));
    assertTrue(metrics, counter(metrics, "memory_usage") > 0);
    assertTrue(metrics, counter(metrics, "message_save_latency_count") > 0);
    assertTrue(metrics, counter(metrics, "total_connection_count{service=\"maildir\"}") > 0);
    assertTrue(metrics, metrics.contains("# TYPE scheduled_count_total gauge"));

    // A message over SMTP moves the SMTP server's histograms.
    long transactions = counter(metrics, "smtpsrv_transaction_duration_count");
    try (SmtpClient smtp = new SmtpClient(smtpPort())) {
      smtp.hello();
      String reply =
          smtp.sendMessage(
              "a@example.com",
              "counted-smtp@http.test",
              "From: a@example.com\r\nSubject: s\r\nX-Campaign: metrics\r\n\r\nx\r\n");
      assertTrue(reply, reply.startsWith("250"));
    }
    metrics = metrics();
    assertEquals(metrics, transactions + 1, counter(metrics, "smtpsrv_transaction_duration_count"));
    assertTrue(metrics, counter(metrics, "smtpsrv_read_data_duration_count") > 0);
    assertTrue(metrics, counter(metrics, "smtpsrv_process_data_duration_count") > 0);

    // The shell's live views read the same series.
    String providers = shell("mta:provider-summary");
    assertTrue(
        providers,
        providers.lines().anyMatch(l -> l.trim().startsWith("itest "))
            && providers.contains("Provider"));
    String top = shell("mta:top --count 2 --interval 200ms");
    List<String> lines = top.lines().filter(l -> !l.isBlank()).toList();
    assertEquals(top, 3, lines.size());
    assertTrue(top, lines.get(0).contains("deliv/s") && lines.get(0).contains("conn-in"));
  }

  // --- access control ---

  @Test
  public void untrustedClientsNeedCredentialsAndTheRightOnes() throws Exception {
    String key = "itest-key-" + System.nanoTime();
    String hash =
        HexFormat.of()
            .formatHex(
                MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    writeEtcFile("postilion-api-keys.properties", "keyco-prod = " + hash + ", keyco\n");
    addUser("http-admin", "admin secret", "admin");
    addUser("http-user", "user secret", "tenant.userco");
    String original = Files.readString(etc().resolve(SECURITY_CFG));
    // Loopback is no longer trusted: this test is now an outside client.
    writeEtcFile(
        SECURITY_CFG, "trusted_hosts = 192.0.2.0/24\nrealm = postilion\nadmin_role = admin\n");
    try {
      awaitSwitch("loopback no longer trusted", "GET", "/metrics", null, 200, 401);
      assertEquals(200, get("/api/check-liveness/v1", null).statusCode());

      HttpResponse<String> anonymous = get("/metrics", null);
      assertEquals(401, anonymous.statusCode());
      assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").contains("Basic"));
      assertEquals(401, get("/api/admin/bounce/v1", null).statusCode());
      assertEquals(401, post("/api/inject/v1", "{}").statusCode());

      // A wrong password and an unknown user get the same answer.
      HttpResponse<String> wrongPassword = get("/metrics", basic("http-admin", "nope"));
      HttpResponse<String> unknownUser = get("/metrics", basic("nobody", "nope"));
      assertEquals(401, wrongPassword.statusCode());
      assertEquals(wrongPassword.body(), unknownUser.body());
      assertEquals(401, get("/metrics", "Bearer wrong-key").statusCode());

      assertEquals(200, get("/metrics", basic("http-admin", "admin secret")).statusCode());
      assertEquals(403, get("/metrics", basic("http-user", "user secret")).statusCode());
      assertEquals(403, get("/api/admin/bounce/v1", "Bearer " + key).statusCode());

      // An API key injects with its tenant, a user with the tenant of its role.
      String message =
          "From: a@example.com\r\nX-Tenant: ignored\r\nX-Campaign: keys\r\nSubject: k\r\n\r\nx\r\n";
      assertEquals(200, sendRaw("bykey@http.test", message, "Bearer " + key).statusCode());
      assertEquals(
          200,
          sendRaw("byuser@http.test", message, basic("http-user", "user secret")).statusCode());
      Path byKey = maildir("keyco", "keys", "bykey");
      Path byUser = maildir("userco", "keys", "byuser");
      await("mail injected with the key", WAIT, () -> newMessages(byKey).size() == 1);
      await("mail injected by the user", WAIT, () -> newMessages(byUser).size() == 1);
    } finally {
      writeEtcFile(SECURITY_CFG, original);
      awaitSwitch("loopback trusted again", "GET", "/metrics", null, 401, 200);
    }
  }

  // --- HTTPS ---

  @Test
  public void httpsFromPemFilesFollowsARenewedCertificateAndSurvivesABrokenOne() throws Exception {
    Path folder = data().resolve("itest-https");
    Files.createDirectories(folder);
    Path certificate = folder.resolve("cert.pem");
    Path key = folder.resolve("key.pem");
    Path first = selfSigned(folder, "first");
    Path second = selfSigned(folder, "second");
    install(first, certificate, key);
    int httpsPort = freePort();
    String original = Files.readString(etc().resolve("org.postilion.http.tls.cfg"));
    writeEtcFile(
        "org.postilion.http.tls.cfg",
        "tls.certificate = "
            + certificate
            + "\ntls.private_key = "
            + key
            + "\ntls.port = "
            + httpsPort
            + "\n");
    try {
      await("HTTPS with the first certificate", WAIT, () -> httpsStatus(httpsPort, first) == 200);
      assertEquals(200, get("/api/check-liveness/v1", null).statusCode());

      install(second, certificate, key);
      await(
          "HTTPS with the renewed certificate", WAIT, () -> httpsStatus(httpsPort, second) == 200);
      assertEquals(-1, httpsStatus(httpsPort, first));

      // A key that does not load leaves the certificate in force.
      Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
      await(
          "the broken key reported",
          WAIT,
          () ->
              karafLog()
                  .contains(
                      "HTTPS certificate " + certificate + " and key " + key + " do not load"));
      assertEquals(200, httpsStatus(httpsPort, second));
    } finally {
      writeEtcFile("org.postilion.http.tls.cfg", original);
    }
    await("HTTPS off again", WAIT, () -> httpsStatus(httpsPort, second) == -1);
    awaitHttpListener();
  }

  /** A certificate for 127.0.0.1 and its EC key from openssl, in {@code <name>.crt/.key}. */
  private static Path selfSigned(Path folder, String name) throws Exception {
    Path prefix = folder.resolve(name);
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=" + name,
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                prefix + ".key",
                "-out",
                prefix + ".crt")
            .redirectErrorStream(true)
            .start();
    String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(output, 0, openssl.waitFor());
    return prefix;
  }

  /** Puts a pair in place the way a renewal tool would: each file whole, the key first. */
  private static void install(Path pair, Path certificate, Path key) throws IOException {
    replace(Path.of(pair + ".key"), key);
    replace(Path.of(pair + ".crt"), certificate);
  }

  private static void replace(Path source, Path target) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The liveness status over HTTPS trusting only {@code pair}'s certificate; -1 when TLS fails. */
  private static int httpsStatus(int port, Path pair) {
    try {
      SSLContext context = SelfSignedTls.trusting(Path.of(pair + ".crt"));
      HttpClient https =
          HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(2)).build();
      URI uri = URI.create("https://127.0.0.1:" + port + "/api/check-liveness/v1");
      return https
          .send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
              BodyHandlers.ofString())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // --- bad input ---

  @Test
  public void badRequestsGetJsonErrorsNamingTheFieldAndQueueNothingWrong() throws Exception {
    HttpResponse<String> broken = post("/api/inject/v1", "{\"envelope_sender\": ");
    assertEquals(400, broken.statusCode());
    assertTrue(broken.body(), broken.body().contains("malformed JSON at line 1"));

    HttpResponse<String> noRecipients =
        post("/api/inject/v1", "{\"envelope_sender\": \"a@example.com\", \"content\": \"x\"}");
    assertEquals(400, noRecipients.statusCode());
    assertTrue(noRecipients.body(), noRecipients.body().contains("\"field\":\"recipients\""));

    HttpResponse<String> badSender =
        post(
            "/api/inject/v1",
            "{\"envelope_sender\": \"a@@x\", \"recipients\": [{\"email\": \"b@http.test\"}], \"content\": \"x\"}");
    assertEquals(400, badSender.statusCode());
    assertTrue(badSender.body(), badSender.body().contains("\"field\":\"envelope_sender\""));

    // One good recipient, one invalid address, one unknown variable: only the good one is queued.
    HttpResponse<String> partial =
        post(
            "/api/inject/v1",
            """
            {"envelope_sender": "a@example.com",
             "recipients": [{"email": "good@http.test", "substitutions": {"name": "G"}},
                            {"email": "no-at-sign"},
                            {"email": "typo@http.test", "substitutions": {"nmae": "T"}}],
             "content": {"subject": "Hi {{ name }}", "headers": {"X-Campaign": "partial"}, "text_body": "x"}}
            """);
    assertEquals(422, partial.statusCode());
    assertTrue(partial.body(), partial.body().contains("\"success_count\":1"));
    assertTrue(partial.body(), partial.body().contains("\"fail_count\":2"));
    assertTrue(partial.body(), partial.body().contains("recipients[1].email"));
    assertTrue(partial.body(), partial.body().contains("unknown template variable 'name'"));
    await(
        "the good one delivered",
        WAIT,
        () -> newMessages(maildir(null, "partial", "good")).size() == 1);
    assertFalse(hasRecord("Reception", "typo@http.test", ""));

    HttpResponse<String> getInject = get("/api/inject/v1", null);
    assertEquals(405, getInject.statusCode());
    HttpResponse<String> noSender =
        client.send(
            request("/api/inject/raw/v1?recipient=b%40http.test")
                .POST(BodyPublishers.ofString("Subject: x\r\n\r\nx\r\n"))
                .build(),
            BodyHandlers.ofString());
    assertEquals(400, noSender.statusCode());
    assertTrue(noSender.body(), noSender.body().contains("\"field\":\"envelope_sender\""));
    HttpResponse<String> notAMessage =
        client.send(
            request("/api/inject/raw/v1?envelope_sender=a%40example.com&recipient=b%40http.test")
                .POST(BodyPublishers.ofString("just text, no header\r\n"))
                .build(),
            BodyHandlers.ofString());
    assertEquals(400, notAMessage.statusCode());

    // An oversized body is refused without being read to the end. Without a sender the request
    // is a 400 under the old limit, so nothing is queued while the new one comes into force.
    String originalInject = Files.readString(etc().resolve("org.postilion.http.inject.cfg"));
    String big =
        "{\"recipients\": [{\"email\": \"big@http.test\"}], \"content\": \""
            + "x".repeat(5000)
            + "\"}";
    writeEtcFile("org.postilion.http.inject.cfg", "max_request_size = 2048\n");
    try {
      awaitSwitch("the smaller limit", "POST", "/api/inject/v1", big, 400, 413);
      HttpResponse<String> tooLarge = post("/api/inject/v1", big);
      assertTrue(tooLarge.body(), tooLarge.body().contains("larger than 2048 bytes"));
    } finally {
      writeEtcFile("org.postilion.http.inject.cfg", originalInject);
      awaitSwitch("the limit restored", "POST", "/api/inject/v1", big, 413, 400);
    }
  }

  // --- helpers ---

  private static void addUser(String name, String password, String role) throws Exception {
    Path users = etc().resolve("postilion-users.properties");
    Files.writeString(
        users,
        Files.readString(users) + name + " = " + password + "," + role + "\n",
        StandardCharsets.UTF_8);
    await(
        "the password of " + name + " hashed",
        WAIT,
        () -> {
          try {
            return Files.readString(users).contains(name + " = {CRYPT}$2a$");
          } catch (IOException e) {
            return false;
          }
        });
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + Integer.getInteger(HTTP_PORT_PROPERTY) + path))
        .timeout(Duration.ofSeconds(30));
  }

  private HttpResponse<String> send(String method, String path, String json) throws IOException {
    HttpRequest.Builder request = request(path).header("Content-Type", "application/json");
    request.method(method, json == null ? BodyPublishers.noBody() : BodyPublishers.ofString(json));
    try {
      return client.send(request.build(), BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private HttpResponse<String> post(String path, String json) throws IOException {
    return send("POST", path, json);
  }

  private HttpResponse<String> get(String path, String authorization) throws IOException {
    HttpRequest.Builder request = request(path).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    try {
      return client.send(request.build(), BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private String body(String path) {
    try {
      HttpResponse<String> response = get(path, null);
      assertEquals(response.body(), 200, response.statusCode());
      return response.body();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Polls until a cfg change shows: every answer meanwhile is the old status or the new one, so the
   * endpoint never goes away while its settings change (no 404 or 503 gap).
   */
  private void awaitSwitch(String what, String method, String path, String json, int from, int to)
      throws InterruptedException {
    await(
        what,
        WAIT,
        () -> {
          int status = status(method, path, json);
          assertTrue(what + ": answered " + status + " on the way", status == from || status == to);
          return status == to;
        });
  }

  private int status(String path) {
    return status("GET", path, null);
  }

  private int status(String method, String path, String json) {
    try {
      return send(method, path, json).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  private String metrics() {
    return body("/metrics");
  }

  private HttpResponse<String> postRaw(String recipient, String message) throws Exception {
    return sendRaw(recipient, message, null);
  }

  private HttpResponse<String> sendRaw(String recipient, String message, String authorization)
      throws Exception {
    HttpRequest.Builder request =
        request("/api/inject/raw/v1?envelope_sender=a%40example.com")
            .header("X-Envelope-Recipient", recipient)
            .POST(BodyPublishers.ofString(message));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return client.send(request.build(), BodyHandlers.ofString());
  }

  /** The first string value of a JSON field in a pretty-printed body. */
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<String> fieldNames(JsonNode object) {
    List<String> names = new java.util.ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]+)\"").matcher(json);
    assertTrue(json, m.find());
    return m.group(1);
  }

  /** A sample's value in Prometheus text; 0 when the series does not exist yet. */
  private static long counter(String metrics, String series) {
    return metrics
        .lines()
        .filter(line -> line.startsWith(series + " "))
        .mapToLong(line -> (long) Double.parseDouble(line.substring(series.length() + 1).trim()))
        .findFirst()
        .orElse(0);
  }

  private static byte[] bytes(Entity entity) throws IOException {
    return ((SingleBody) entity.getBody()).getInputStream().readAllBytes();
  }

  private static String text(Entity entity) throws IOException {
    return new String(bytes(entity), StandardCharsets.UTF_8);
  }
}
