package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOption;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.SmtpClient;

/**
 * What probing the default distribution found, tried again against the real server: placeholders in
 * addresses and headers aiming maildir writes outside their root, many large messages at once under
 * the shipped heap, a queue file that does not parse, refusals without records, and password
 * guessing over HTTP.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HardeningIT extends PostilionTestSupport {
  private static final String HTTP_PORT_PROPERTY = "postilion.itest.http.port";
  private static final String LISTENER_CFG = "etc/org.postilion.smtp.listener-default.cfg";
  private static final String FLAT_CFG = "etc/org.postilion.queue-itest-flat.cfg";
  private static final String DEEP_CFG = "etc/org.postilion.queue-itest-deep.cfg";
  private static final String FALLBACK_CFG = "etc/org.postilion.queue-itest-fallback.cfg";
  private static final int MEGABYTE = 1024 * 1024;

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @Override
  protected Option[] extraOptions() {
    String httpPort = String.valueOf(freePort());
    return new Option[] {
      // The heap bin/setenv ships with.
      vmOption("-Xmx1g"),
      editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", httpPort),
      systemProperty(HTTP_PORT_PROPERTY).value(httpPort),
      // Outside clients (127.0.0.2) may send to these domains without relaying rights.
      editConfigurationFilePut(LISTENER_CFG, "relay_domains", "local2.test, local3.test"),
      // Mail for anything else waits for a protocol that is never installed.
      editConfigurationFilePut("etc/org.postilion.queue-default.cfg", "protocol", "held"),
      editConfigurationFilePut(FLAT_CFG, "match.domain", "local2.test"),
      editConfigurationFilePut(FLAT_CFG, "protocol", "maildir"),
      editConfigurationFilePut(FLAT_CFG, "maildir.path", "${karaf.data}/maildir2/{user}"),
      editConfigurationFilePut(DEEP_CFG, "match.domain", "local3.test"),
      editConfigurationFilePut(DEEP_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          DEEP_CFG, "maildir.path", "${karaf.data}/maildir3/{tenant}/{campaign}/{user}"),
      // Catches everything under .badkeys.test that no better rule takes.
      editConfigurationFilePut(FALLBACK_CFG, "match.domain", "*.test"),
      editConfigurationFilePut(FALLBACK_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          FALLBACK_CFG, "maildir.path", "${karaf.data}/fallback/{domain}/{user}"),
    };
  }

  private static String message(String headers, String body) {
    return "From: prober@example.org\r\nSubject: probe\r\n" + headers + "\r\n" + body;
  }

  /** Every regular file under the Karaf home's folders, outside the data folders tests may use. */
  private static List<Path> filesOutsideMaildirs(Path home) throws IOException {
    try (Stream<Path> files = Files.walk(home)) {
      return files
          .filter(Files::isRegularFile)
          .filter(f -> f.getFileName().toString().matches("\\d+\\.M\\d+P\\d+Q\\d+\\..*"))
          .filter(f -> !f.startsWith(data().resolve("maildir2")))
          .filter(f -> !f.startsWith(data().resolve("maildir3")))
          .filter(f -> !f.startsWith(data().resolve("fallback")))
          .toList();
    }
  }

  @Test
  public void placeholdersInAddressesAndHeadersNeverAimMaildirWritesElsewhere() throws Exception {
    Path home = data().getParent();
    String tenantHeader = "X-Tenant: ..{campaign}\r\nX-Campaign: ..\r\n";
    String[] attacks = {"{tenant}@local2.test", "{campaign}@local3.test", "{domain}@local3.test"};
    try (SmtpClient smtp = new SmtpClient("127.0.0.2", smtpPort()).hello()) {
      for (String recipient : attacks) {
        String reply =
            smtp.sendMessage("prober@example.org", recipient, message(tenantHeader, "x\r\n"));
        assertTrue(reply, reply.startsWith("250"));
      }
      // The same client and headers with a plain mailbox: the positive signal.
      assertTrue(
          smtp.sendMessage(
                  "prober@example.org", "plain@local3.test", message(tenantHeader, "x\r\n"))
              .startsWith("250"));
    }
    for (String recipient : attacks) {
      await(
          "a Bounce record for " + recipient,
          WAIT,
          () -> hasRecord("Bounce", recipient, "\"code\":550"));
    }
    // X-Tenant and X-Campaign reach the queue name, and the path, in a safe form only.
    Path plain = data().resolve("maildir3/___campaign_/__/plain");
    await("the plain mailbox's message in " + plain, WAIT, () -> newMessages(plain).size() == 1);
    assertEquals(List.of(), filesOutsideMaildirs(home));
    try (Stream<Path> folders = Files.walk(data())) {
      assertEquals(
          List.of(), folders.filter(p -> p.getFileName().toString().contains("{")).toList());
    }
  }

  @Test
  public void fortyLargeMessagesAtOnceAreTakenWithinTheShippedHeap() throws Exception {
    int senders = 40;
    long size = 19L * 1000 * 1000;
    ExecutorService pool = Executors.newFixedThreadPool(senders);
    List<Future<String>> replies = new ArrayList<>();
    try {
      for (int i = 0; i < senders; i++) {
        int n = i;
        replies.add(pool.submit(() -> sendLarge("big" + n + "@held.test", size)));
      }
      int accepted = 0;
      for (Future<String> reply : replies) {
        String text = reply.get();
        assertTrue(text, text.startsWith("250") || text.startsWith("4"));
        accepted += text.startsWith("250") ? 1 : 0;
      }
      assertTrue("only " + accepted + " of 40 accepted", accepted > 0);
    } finally {
      pool.shutdownNow();
    }
    assertFalse(karafLog().contains("OutOfMemoryError"));
    // Raw HTTP injection streams too, and follows the listener's limit.
    List<Callable<Integer>> injections = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String recipient = "raw" + i + "@held.test";
      injections.add(() -> injectRaw(recipient, size));
    }
    ExecutorService six = Executors.newFixedThreadPool(6);
    try {
      for (Future<Integer> status : six.invokeAll(injections)) {
        int code = status.get();
        assertTrue("status " + code, code == 200 || code == 503);
      }
    } finally {
      six.shutdownNow();
    }
    assertEquals(413, injectRaw("tooraw@held.test", 21L * MEGABYTE));
    assertFalse(karafLog().contains("OutOfMemoryError"));
  }

  /** One message of about {@code size} bytes, made up as it is sent; returns the final reply. */
  private static String sendLarge(String recipient, long size) throws IOException {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).timeout(Duration.ofMinutes(3)).hello()) {
      String mail = smtp.send("MAIL FROM:<bulk@example.org> SIZE=" + size);
      if (!mail.startsWith("250")) {
        return mail;
      }
      smtp.send("RCPT TO:<" + recipient + ">");
      String data = smtp.send("DATA");
      if (!data.startsWith("354")) {
        return data;
      }
      writeBody(smtp.output(), size, true);
      smtp.output().write(".\r\n".getBytes(StandardCharsets.US_ASCII));
      smtp.output().flush();
      return smtp.reply();
    }
  }

  private static void writeBody(OutputStream out, long size, boolean withHeaders)
      throws IOException {
    if (withHeaders) {
      out.write(message("", "").getBytes(StandardCharsets.US_ASCII));
    }
    byte[] line = ("A".repeat(76) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] chunk = new byte[line.length * 1000];
    for (int i = 0; i < 1000; i++) {
      System.arraycopy(line, 0, chunk, i * line.length, line.length);
    }
    for (long written = 0; written < size; written += chunk.length) {
      out.write(chunk);
    }
  }

  private int injectRaw(String recipient, long size) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + Integer.getInteger(HTTP_PORT_PROPERTY)
                        + "/api/inject/raw/v1?envelope_sender=bulk@example.org&recipient="
                        + recipient))
            .timeout(Duration.ofMinutes(2))
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> generated(size)))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** A message of {@code size} bytes, generated as it is read. */
  private static InputStream generated(long size) {
    byte[] head = message("", "").getBytes(StandardCharsets.US_ASCII);
    return new InputStream() {
      private long position;

      @Override
      public int read() {
        if (position >= size) {
          return -1;
        }
        long at = position++;
        if (at < head.length) {
          return head[(int) at];
        }
        long column = (at - head.length) % 78;
        return column == 76 ? '\r' : column == 77 ? '\n' : 'A';
      }

      @Override
      public int read(byte[] into, int offset, int length) {
        if (position >= size) {
          return -1;
        }
        int n = (int) Math.min(length, size - position);
        for (int i = 0; i < n; i++) {
          into[offset + i] = (byte) read();
        }
        return n;
      }
    };
  }

  @Test
  public void mailForAQueueFileThatDoesNotParseWaitsForTheFix() throws Exception {
    // A new file that does not parse: DS keeps a rule for it that only holds its mail.
    writeQueueConfig(
        "badkeys",
        "match.domain = badkeys.test\nprotocol = maildir\n"
            + "maildir.path = ${karaf.data}/badkeys/{user}\nretry.interval = banana\n");
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(
          smtp.sendMessage("a@example.org", "u@badkeys.test", message("", "held\r\n"))
              .startsWith("250"));
      // The positive signal that dispatch had its chance: a neighbour of the fallback rule arrives.
      assertTrue(
          smtp.sendMessage("a@example.org", "u@other.badkeys.test", message("", "x\r\n"))
              .startsWith("250"));
    }
    await(
        "the neighbour's message in the fallback maildir",
        WAIT,
        () -> newMessages(data().resolve("fallback/other.badkeys.test/u")).size() == 1);
    await(
        "u@badkeys.test waiting for its configuration",
        WAIT,
        () -> {
          try {
            return shell("mta:queue-list --domain badkeys.test")
                .contains("org.postilion.queue-badkeys.cfg");
          } catch (Exception e) {
            return false;
          }
        });
    assertEquals(List.of(), newMessages(data().resolve("fallback/badkeys.test/u")));
    assertTrue(karafLog().contains("org.postilion.queue-badkeys.cfg rejected"));

    writeQueueConfig(
        "badkeys",
        "match.domain = badkeys.test\nprotocol = maildir\n"
            + "maildir.path = ${karaf.data}/badkeys/{user}\nretry.interval = 2s\n");
    await(
        "the held message delivered once the file is fixed",
        WAIT,
        () -> newMessages(data().resolve("badkeys/u")).size() == 1);
    assertEquals(List.of(), newMessages(data().resolve("fallback/badkeys.test/u")));
  }

  @Test
  public void everyRefusalIsARejectionRecordWithACleanReply() throws Exception {
    try (SmtpClient smtp =
        new SmtpClient("127.0.0.2", smtpPort()).timeout(Duration.ofMinutes(2)).hello()) {
      String size = smtp.send("MAIL FROM:<a@example.org> SIZE=" + 30 * MEGABYTE);
      assertTrue(size, size.startsWith("552 5.3.4"));
      assertTrue(smtp.send("MAIL FROM:<a@example.org>").startsWith("250"));
      String relay = smtp.send("RCPT TO:<someone@elsewhere.example>");
      assertTrue(relay, relay.startsWith("550 5.7.1"));
      assertTrue(smtp.send("RCPT TO:<big@local2.test>").startsWith("250"));
      assertTrue(smtp.send("DATA").startsWith("354"));
      writeBody(smtp.output(), 21L * MEGABYTE, true);
      smtp.output().write(".\r\n".getBytes(StandardCharsets.US_ASCII));
      smtp.output().flush();
      String data = smtp.reply();
      assertTrue(data, data.startsWith("552 5.3.4 message exceeds 20971520 octets"));
      String ehlo = smtp.send("EHLO probe");
      assertTrue(ehlo, ehlo.contains("Hello probe [127.0.0.2]") && !ehlo.contains("])"));
    }
    await(
        "Rejection records of the three refusals",
        WAIT,
        () ->
            hasRecord("Rejection", "someone@elsewhere.example", "relay_denied")
                && hasRecord("Rejection", "big@local2.test", "max_message_size")
                && eventLog()
                    .lines()
                    .anyMatch(
                        l ->
                            l.contains("\"type\":\"Rejection\"")
                                && l.contains("max_message_size")
                                && l.contains("\"code\":552")));
    assertFalse(karafLog().contains("Quota exceeded"));
  }

  @Test
  public void guessingPasswordsOverHttpIsCutOff() throws Exception {
    String original = Files.readString(etc().resolve("org.postilion.http.security.cfg"));
    writeEtcFile(
        "org.postilion.http.security.cfg",
        "trusted_hosts = 192.0.2.0/24\nrealm = postilion\nauth.max_failures = 5\n");
    try {
      await("loopback no longer trusted", WAIT, () -> status("/metrics", null) == 401);
      int refused = 0;
      for (int i = 0; i < 5; i++) {
        refused += status("/metrics", basic("guess" + i, "password" + i)) == 401 ? 1 : 0;
      }
      assertTrue("the five guesses were checked", refused >= 4);
      int locked = status("/metrics", basic("anyone", "anything"));
      assertEquals(429, locked);
      assertEquals(200, status("/api/check-liveness/v1", null));
    } finally {
      writeEtcFile("org.postilion.http.security.cfg", original);
    }
  }

  private int status(String path, String authorization) {
    try {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + Integer.getInteger(HTTP_PORT_PROPERTY) + path))
              .timeout(Duration.ofSeconds(10));
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
