package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.SmtpClient;

/**
 * Policy as Camel YAML routes in etc/routes, in the real distribution: the reception hook names
 * queues and refuses mail, route files are followed while the server runs (and a broken one changes
 * nothing), and the events hook reaches an HTTP server through camel-http.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CamelIT extends PostilionTestSupport {
  private static final String QUEUE_CFG = "etc/org.postilion.queue-itest-routes.cfg";
  private static final String RECEPTION = "reception.yaml";

  @Override
  protected Option[] extraOptions() {
    return new Option[] {
      // Each route file is added and removed in turn: a scan every 2 s took most of the class.
      editConfigurationFilePut("etc/org.postilion.camel.cfg", "scan_interval", "300ms"),
      editConfigurationFilePut(QUEUE_CFG, "match.domain", "routes.test"),
      editConfigurationFilePut(QUEUE_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          QUEUE_CFG, "maildir.path", "${karaf.data}/itest-maildir/{tenant}/{campaign}/{user}"),
    };
  }

  private static Path routes() {
    return etc().resolve("routes");
  }

  /** Replaces a route file at once: a scan never sees it half written. */
  private static void writeWhole(String file, String yaml) throws IOException {
    Path tmp = routes().resolve(file + ".tmp");
    Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
    Files.move(tmp, routes().resolve(file), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes a route file whole and waits until the server says its routes are in force. */
  private static void writeRoutes(String file, String yaml, String routeId) throws Exception {
    String before = karafLog();
    writeWhole(file, yaml);
    await(
        routeId + " in force",
        WAIT,
        () ->
            karafLog().length() > before.length()
                && karafLog()
                    .substring(before.length())
                    .matches("(?s).*Routes of " + file + " in force: \\[[^\\]]*" + routeId + ".*"));
  }

  private static String receptionRoute(String id, String campaign) {
    return """
        - route:
            id: %s
            from:
              uri: direct:reception
              steps:
                - choice:
                    when:
                      - simple: "${header.sender} endsWith '@blocked.example'"
                        steps:
                          - setHeader:
                              name: reject
                              constant: "550 5.7.1 sender blocked by policy"
                    otherwise:
                      steps:
                        - setHeader:
                            name: tenant
                            simple: "${header.sender.substring(${header.sender.indexOf('@')}).replace('@', '').replace('.', '-')}"
                        - setHeader:
                            name: campaign
                            constant: %s
                        - setHeader:
                            name: meta.policy
                            constant: %s
                        - setHeader:
                            name: append_header.X-Policy
                            constant: %s
        """
        .formatted(id, campaign, id, id);
  }

  private static String send(String sender, String recipient) throws Exception {
    String content =
        "From: "
            + sender
            + "\r\nTo: "
            + recipient
            + "\r\nSubject: routes\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n";
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      return smtp.sendMessage(sender, recipient, content);
    }
  }

  @Test
  public void receptionRouteNamesTheQueueRefusesAndFollowsItsFile() throws Exception {
    writeRoutes(RECEPTION, receptionRoute("policy-v1", "spring"), "policy-v1");

    assertTrue(send("ann@shop.example", "ann@routes.test").startsWith("250 "));
    Path box = data().resolve("itest-maildir/shop-example/spring/ann");
    await("the message in " + box, WAIT, () -> newMessages(box).size() == 1);
    String delivered = Files.readString(newMessages(box).get(0), StandardCharsets.ISO_8859_1);
    assertTrue(delivered, delivered.contains("\r\nX-Policy: policy-v1\r\n"));
    assertTrue(
        hasRecord("Reception", "ann@routes.test", "\"queue\":\"spring:shop-example@routes.test\""));
    assertTrue(hasRecord("Reception", "ann@routes.test", "\"policy\":\"policy-v1\""));

    String refused = send("eve@blocked.example", "bob@routes.test");
    assertTrue(refused, refused.startsWith("550 5.7.1 "));
    assertTrue(refused, refused.contains("sender blocked by policy"));
    await(
        "a Rejection record",
        WAIT,
        () -> hasRecord("Rejection", "bob@routes.test", "sender blocked by policy"));

    // The file changes while the server runs: the new campaign applies to the next message.
    writeRoutes(RECEPTION, receptionRoute("policy-v2", "autumn"), "policy-v2");
    assertTrue(send("cy@shop.example", "cy@routes.test").startsWith("250 "));
    Path autumn = data().resolve("itest-maildir/shop-example/autumn/cy");
    await("the message in " + autumn, WAIT, () -> newMessages(autumn).size() == 1);

    // A broken file is reported with its line and the routes in force stay.
    String before = karafLog();
    writeWhole(
        RECEPTION,
        "- route:\n    id: broken\n    from:\n      uri: direct:reception\n      steps:\n"
            + "        - noSuchStep: {}\n");
    await(
        "the broken file reported",
        WAIT,
        () ->
            karafLog()
                .substring(before.length())
                .contains("Routes in " + routes().resolve(RECEPTION)));
    String report = karafLog().substring(before.length());
    assertTrue(report, report.contains("line 6"));
    assertTrue(send("dee@shop.example", "dee@routes.test").startsWith("250 "));
    Path stillAutumn = data().resolve("itest-maildir/shop-example/autumn/dee");
    await("the message in " + stillAutumn, WAIT, () -> newMessages(stillAutumn).size() == 1);

    // Without a reception route, mail is queued by its headers again.
    Files.delete(routes().resolve(RECEPTION));
    await(
        "the routes removed",
        WAIT,
        () -> karafLog().contains("Routes of " + RECEPTION + " removed with the file"));
    assertTrue(send("eve@blocked.example", "eve@routes.test").startsWith("250 "));
    Path unrouted = data().resolve("itest-maildir/eve");
    await("the message in " + unrouted, WAIT, () -> newMessages(unrouted).size() == 1);
    assertFalse(Files.readString(newMessages(unrouted).get(0)).contains("X-Policy"));
  }

  @Test
  public void eventsRouteForwardsRecordsOverHttp() throws Exception {
    List<String> posted = new CopyOnWriteArrayList<>();
    List<String> protocols = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/hook",
        exchange -> {
          posted.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          protocols.add(String.valueOf(exchange.getRequestHeaders().getFirst("X-Protocols")));
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    server.start();
    try {
      writeRoutes(
          "events.yaml",
          """
          - route:
              id: deliveries-to-http
              from:
                uri: direct:events
                steps:
                  - filter:
                      simple: "${header.type} == 'Delivery'"
                      steps:
                        - removeHeaders:
                            pattern: "*"
                        - setHeader:
                            name: X-Protocols
                            simple: "${bean:queueAdmin?method=protocols}"
                        - to:
                            uri: "http://127.0.0.1:%d/hook?httpMethod=POST"
          """
              .formatted(server.getAddress().getPort()),
          "deliveries-to-http");
      assertTrue(send("fay@example.org", "fay@routes.test").startsWith("250 "));
      await(
          "the Delivery record at the HTTP server",
          WAIT,
          () ->
              posted.stream().anyMatch(body -> body.contains("\"recipient\":\"fay@routes.test\"")));
      String record =
          posted.stream()
              .filter(body -> body.contains("fay@routes.test"))
              .findFirst()
              .orElseThrow();
      assertTrue(record, record.startsWith("{\"type\":\"Delivery\""));
      // The queue manager's admin service is the bean "queueAdmin" in routes.
      assertTrue(protocols.toString(), protocols.get(0).contains("ProtocolStatus[name=maildir"));
      assertEquals(
          "only Delivery records pass the filter",
          posted.size(),
          posted.stream().filter(body -> body.startsWith("{\"type\":\"Delivery\"")).count());
    } finally {
      Files.deleteIfExists(routes().resolve("events.yaml"));
      server.stop(0);
    }
  }

  @Test
  public void shippedExampleRoutesLoadAndWork() throws Exception {
    for (String example : List.of("tenant-from-auth", "block-senders", "bounces-to-webhook")) {
      Path disabled = routes().resolve(example + ".yaml.disabled");
      assertTrue(disabled + " is shipped", Files.exists(disabled));
      writeRoutes(example + ".yaml", Files.readString(disabled), example);
      if (example.equals("block-senders")) {
        String refused = send("x@spammer.example", "y@routes.test");
        assertTrue(refused, refused.startsWith("550 5.7.1 sender blocked by policy"));
        assertTrue(send("x@example.org", "z@routes.test").startsWith("250 "));
      }
      Files.delete(routes().resolve(example + ".yaml"));
      await(
          example + " removed",
          WAIT,
          () -> karafLog().contains("Routes of " + example + ".yaml removed with the file"));
    }
  }

  @Test
  public void receptionRouteThatFailsDelaysMailAndOneWithACodeRefusesIt() throws Exception {
    writeRoutes(
        "failing.yaml",
        """
        - route:
            id: failing
            from:
              uri: direct:reception
              steps:
                - choice:
                    when:
                      - simple: "${header.sender} startsWith 'coded@'"
                        steps:
                          - throwException:
                              exceptionType: java.lang.IllegalArgumentException
                              message: "554 5.7.0 not from here"
                    otherwise:
                      steps:
                        - throwException:
                            exceptionType: java.lang.IllegalStateException
                            message: a bug in the route
        """,
        "failing");
    try {
      String coded = send("coded@example.org", "c@routes.test");
      assertTrue(coded, coded.startsWith("554 5.7.0 not from here"));
      String broken = send("other@example.org", "d@routes.test");
      assertTrue(broken, broken.startsWith("451 4.3.0 "));
      assertFalse(hasRecord("Reception", "d@routes.test", ""));
    } finally {
      Files.delete(routes().resolve("failing.yaml"));
      await("failing removed", WAIT, () -> karafLog().contains("Routes of failing.yaml removed"));
    }
  }

  // --- the camel protocol ---

  @Test
  public void camelProtocolDeliversBouncesAndRetriesAsTheRouteSays() throws Exception {
    writeRoutes(
        "delivery.yaml",
        """
        - route:
            id: my-delivery
            from:
              uri: direct:my-delivery
              steps:
                - choice:
                    when:
                      - simple: "${header.recipients} contains 'bounce@camel.test'"
                        steps:
                          - setHeader:
                              name: failure
                              constant: "550 5.1.1 no such mailbox downstream"
                      - simple: "${header.recipients} contains 'later@camel.test'"
                        steps:
                          - throwException:
                              exceptionType: java.lang.IllegalStateException
                              message: downstream is down
        """,
        "my-delivery");
    writeQueueConfig(
        "itest-camel",
        "match.domain = camel.test\nprotocol = camel\ncamel.uri = direct:my-delivery\n"
            + "retry.interval = 1m\n");
    assertTrue(send("a@example.org", "ok@camel.test").startsWith("250 "));
    assertTrue(send("a@example.org", "bounce@camel.test").startsWith("250 "));
    assertTrue(send("a@example.org", "later@camel.test").startsWith("250 "));
    await(
        "a Delivery record",
        WAIT,
        () -> hasRecord("Delivery", "ok@camel.test", "delivered to direct:my-delivery"));
    await(
        "a Bounce record",
        WAIT,
        () -> hasRecord("Bounce", "bounce@camel.test", enhancedCode("5.1.1")));
    await(
        "a TransientFailure record",
        WAIT,
        () -> hasRecord("TransientFailure", "later@camel.test", "downstream is down"));
    assertTrue(hasRecord("Delivery", "ok@camel.test", "\"delivery_protocol\":\"camel\""));
  }

  // --- the queue-config hook ---

  @Test
  public void queueConfigRouteOverridesTheProtocolOfAQueue() throws Exception {
    // The cfg sends qc.test over SMTP to a port where nothing listens; the route says maildir.
    writeQueueConfig(
        "itest-qc",
        "match.domain = qc.test\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
            + freePort()
            + "\nsmtp.allow_loopback = true\nretry.interval = 1m\n");
    Path box = data().resolve("itest-qc/zed");
    writeRoutes(
        "queue-config.yaml",
        """
        - route:
            id: qc-to-maildir
            from:
              uri: direct:queue-config
              steps:
                - filter:
                    simple: "${header.domain} == 'qc.test'"
                    steps:
                      - setHeader:
                          name: protocol
                          constant: maildir
                      - setHeader:
                          name: config.maildir.path
                          constant: "%s/{user}"
        """
            .formatted(data().resolve("itest-qc")),
        "qc-to-maildir");
    try {
      assertTrue(send("a@example.org", "zed@qc.test").startsWith("250 "));
      await("the message in " + box, WAIT, () -> newMessages(box).size() == 1);
      assertTrue(hasRecord("Delivery", "zed@qc.test", "\"delivery_protocol\":\"Maildir\""));
    } finally {
      Files.deleteIfExists(routes().resolve("queue-config.yaml"));
    }
  }

  // --- the webhook protocol ---

  private static final String MIME =
      "From: shop@example.org\r\nTo: {to}\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
          + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{to}>\r\nMIME-Version: 1.0\r\n"
          + "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
          + "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
          + "--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
          // The UTF-8 bytes of "Plain ü": the test client sends each char as one byte.
          + new String(
              "Plain \u00fc\r\n".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1)
          + "--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML</p>\r\n--inner--\r\n"
          + "--outer\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n"
          + "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--outer--\r\n";

  private static String sendMime(String recipient) throws Exception {
    String content = MIME.replace("{to}", recipient);
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      return smtp.sendMessage("shop@example.org", recipient, content);
    }
  }

  @Test
  public void webhookDeliveryPostsRawAndJsonAndSortsTheAnswers() throws Exception {
    Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    Map<String, String> headers = new ConcurrentHashMap<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    server.createContext(
        "/",
        exchange -> {
          String path = exchange.getRequestURI().getPath();
          bodies.put(path, exchange.getRequestBody().readAllBytes());
          headers.put(
              path,
              exchange.getRequestHeaders().getFirst("Content-Type")
                  + "|"
                  + exchange.getRequestHeaders().getFirst("Authorization")
                  + "|"
                  + exchange.getRequestHeaders().getFirst("X-Tag"));
          int status =
              switch (path) {
                case "/busy" -> 503;
                case "/gone" -> 404;
                default -> 200;
              };
          if (path.equals("/slow")) {
            try {
              Thread.sleep(3000);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          byte[] answer =
              (status == 503 ? "busy, come back" : status == 404 ? "no such hook" : "stored")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status, answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    try {
      List<EtcFile> queues = new ArrayList<>();
      for (String[] hook :
          List.of(
              new String[] {
                "raw",
                "/raw",
                "raw",
                "webhook.auth.bearer = t0ken\nwebhook.headers = X-Tag: raw-hook\n"
              },
              new String[] {
                "json", "/json", "json", "webhook.auth.user = u\nwebhook.auth.password = p\n"
              },
              new String[] {"busy", "/busy", "raw", ""},
              new String[] {"gone", "/gone", "raw", ""},
              new String[] {"slow", "/slow", "raw", "webhook.timeout = 1s\n"})) {
        queues.add(
            EtcFile.queue(
                "itest-hook-" + hook[0],
                "match.domain = "
                    + hook[0]
                    + ".hook.test\nprotocol = webhook\nretry.interval = 1m\n"
                    + "webhook.url = "
                    + base
                    + hook[1]
                    + "\nwebhook.format = "
                    + hook[2]
                    + "\n"
                    + hook[3]));
      }
      writeConfigs(queues.toArray(EtcFile[]::new));
      for (String name : List.of("raw", "json", "busy", "gone", "slow")) {
        assertTrue(sendMime("u@" + name + ".hook.test").startsWith("250 "));
      }
      await(
          "a Delivery for raw",
          WAIT,
          () -> hasRecord("Delivery", "u@raw.hook.test", "HTTP 200: stored"));
      await(
          "a Delivery for json", WAIT, () -> hasRecord("Delivery", "u@json.hook.test", "HTTP 200"));
      await(
          "a TransientFailure for 503",
          WAIT,
          () -> hasRecord("TransientFailure", "u@busy.hook.test", "HTTP 503: busy, come back"));
      await(
          "a Bounce for 404",
          WAIT,
          () -> hasRecord("Bounce", "u@gone.hook.test", "HTTP 404: no such hook"));
      await(
          "a TransientFailure for the timeout",
          WAIT,
          () -> hasRecord("TransientFailure", "u@slow.hook.test", "no answer within PT1S"));

      assertDeliveredAsSent(MIME.replace("{to}", "u@raw.hook.test"), bodies.get("/raw"));
      assertEquals("message/rfc822|Bearer t0ken|raw-hook", headers.get("/raw"));
      assertTrue(
          headers.get("/json"),
          headers
              .get("/json")
              .startsWith(
                  "application/json|Basic "
                      + Base64.getEncoder()
                          .encodeToString("u:p".getBytes(StandardCharsets.UTF_8))));
      JsonNode json = new ObjectMapper().readTree(bodies.get("/json"));
      assertEquals("shop@example.org", json.path("envelope").path("sender").asText());
      assertEquals("u@json.hook.test", json.path("envelope").path("recipients").get(0).asText());
      assertTrue(
          json.toString(), json.toString().contains("{\"name\":\"Subject\",\"value\":\"Grüße\"}"));
      assertEquals("Plain ü", json.path("text").asText().trim());
      assertEquals("<p>HTML</p>", json.path("html").asText().trim());
      JsonNode attachment = json.path("attachments").get(0);
      assertEquals("application/pdf", attachment.path("content_type").asText());
      assertEquals("a.pdf", attachment.path("file_name").asText());
      assertEquals(
          "%PDF-1.4\n",
          new String(
              Base64.getDecoder().decode(attachment.path("data").asText()),
              StandardCharsets.US_ASCII));
    } finally {
      server.stop(0);
    }
  }
}
