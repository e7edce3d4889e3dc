package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.KumoRecordShape;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;

/**
 * What comes back, through the real distribution: mail sent through the server carries its trace
 * header; a receiving MTA started by the test bounces it, or its user complains, with a report sent
 * to the report listener (role = reports); the records are tied to the original message. A
 * synchronous refusal is classified, and the report listener relays nothing.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BounceReportsIT extends PostilionTestSupport {
  private static final String REPORTS_PORT_PROPERTY = "postilion.itest.reports.port";
  private static final String REPORTS_CFG = "etc/org.postilion.smtp.listener-reports.cfg";
  private static final String REPORT_DOMAIN = "bounces.example.org";

  @Override
  protected Option[] extraOptions() {
    String port = String.valueOf(freePort());
    return new Option[] {
      systemProperty(REPORTS_PORT_PROPERTY).value(port),
      editConfigurationFilePut(REPORTS_CFG, "address", "127.0.0.1"),
      editConfigurationFilePut(REPORTS_CFG, "port", port),
      editConfigurationFilePut(REPORTS_CFG, "role", "reports"),
      editConfigurationFilePut(REPORTS_CFG, "report_domains", REPORT_DOMAIN),
    };
  }

  private static int reportsPort() {
    return Integer.getInteger(REPORTS_PORT_PROPERTY);
  }

  private void routeTo(String domain, TestSmtpServer mx) throws Exception {
    writeQueueConfig(
        "itest-" + domain.replace('.', '-'),
        "match.domain = "
            + domain
            + "\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
            + mx.port()
            + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\n");
  }

  /** Sends a campaign message for a tenant; returns the id the server gave it. */
  private static String sendCampaign(String recipient) throws Exception {
    String content =
        "From: news@example.org\r\nTo: "
            + recipient
            + "\r\nSubject: winter offers\r\nX-Tenant: acme\r\nX-Campaign: winter\r\n"
            + "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <winter-"
            + recipient.hashCode()
            + "@example.org>\r\n\r\nOffers!\r\n";
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      String reply = smtp.sendMessage("bounces@" + REPORT_DOMAIN, recipient, content);
      assertTrue(reply, reply.startsWith("250 "));
      Matcher id = Pattern.compile("queued as (\\S+)").matcher(reply);
      assertTrue(reply, id.find());
      return id.group(1);
    }
  }

  private static String sendReport(String report) throws Exception {
    try (SmtpClient smtp = new SmtpClient(reportsPort()).hello()) {
      return smtp.sendMessage("", "bounces@" + REPORT_DOMAIN, report);
    }
  }

  /** The message as the receiving MTA got it, with the trace header the server added. */
  private static String receivedAt(TestSmtpServer mx) throws InterruptedException {
    await("the message at the receiving MTA", WAIT, () -> mx.received().size() == 1);
    String original = mx.received().get(0).text();
    assertTrue(original, original.startsWith("Received: "));
    assertTrue(original, original.contains("\r\nX-Postilion-Ref: "));
    return original;
  }

  private static String record(String type, String recipient) {
    return eventLog()
        .lines()
        .filter(l -> l.contains("\"type\":\"" + type + "\""))
        .filter(l -> l.contains("\"recipient\":\"" + recipient + "\""))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " record for " + recipient));
  }

  @Test
  public void anOutOfBandBounceGivesAnOobRecordTiedToTheOriginalMessage() throws Exception {
    try (TestSmtpServer mx = new TestSmtpServer(null)) {
      routeTo("oob.test", mx);
      String id = sendCampaign("hana@oob.test");
      String original = receivedAt(mx);
      // The receiving MTA accepted, then found no such mailbox: a Postfix-style DSN comes back.
      String dsn =
          "From: MAILER-DAEMON@mx.oob.test (Mail Delivery System)\r\n"
              + "To: bounces@"
              + REPORT_DOMAIN
              + "\r\nSubject: Undelivered Mail Returned to Sender\r\n"
              + "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
              + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
              + "\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
              + "This is the mail system at host mx.oob.test.\r\n\r\n"
              + "<hana@oob.test>: unknown user: \"hana\"\r\n\r\n"
              + "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
              + "Reporting-MTA: dns; mx.oob.test\r\n\r\n"
              + "Final-Recipient: rfc822; hana@oob.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              + "Diagnostic-Code: X-Postfix; unknown user: \"hana\"\r\n\r\n"
              + "--B\r\nContent-Type: message/rfc822\r\n\r\n"
              + original
              + "\r\n--B--\r\n";
      String reply = sendReport(dsn);
      assertTrue(reply, reply.startsWith("250 "));
      await("the OOB record", WAIT, () -> hasRecord("OOB", "hana@oob.test", ""));
      String oob = record("OOB", "hana@oob.test");
      KumoRecordShape.check(oob);
      assertTrue(oob, oob.contains("\"id\":\"" + id + "\""));
      assertTrue(oob, oob.contains("\"tenant\":\"acme\""));
      assertTrue(oob, oob.contains("\"campaign\":\"winter\""));
      assertTrue(oob, oob.contains("\"queue\":\"winter:acme@oob.test\""));
      assertTrue(oob, oob.contains(enhancedCode("5.1.1")));
      assertTrue(oob, oob.contains("\"bounce_classification\":\"InvalidRecipient\""));
      assertTrue(oob, oob.contains("\"sender\":\"bounces@" + REPORT_DOMAIN + "\""));
      assertTrue(oob, oob.contains("\"name\":\"mx.oob.test\""));
    }
  }

  @Test
  public void aComplaintGivesAFeedbackRecordTiedToTheOriginalMessage() throws Exception {
    try (TestSmtpServer mx = new TestSmtpServer(null)) {
      routeTo("fbl.test", mx);
      String id = sendCampaign("ivo@fbl.test");
      String original = receivedAt(mx);
      String arf =
          "From: <abuse@fbl.test>\r\nTo: <bounces@"
              + REPORT_DOMAIN
              + ">\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n"
              + "Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n"
              + "\r\n--F\r\nContent-Type: text/plain\r\n\r\nA complaint about a message.\r\n"
              + "--F\r\nContent-Type: message/feedback-report\r\n\r\n"
              + "Feedback-Type: abuse\r\nUser-Agent: FblTest/1.0\r\nVersion: 1\r\n"
              + "Original-Rcpt-To: <ivo@fbl.test>\r\nSource-IP: 127.0.0.1\r\n"
              + "Arrival-Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\n"
              + "--F\r\nContent-Type: message/rfc822\r\n\r\n"
              + original
              + "\r\n--F--\r\n";
      String reply = sendReport(arf);
      assertTrue(reply, reply.startsWith("250 "));
      await("the Feedback record", WAIT, () -> hasRecord("Feedback", "ivo@fbl.test", ""));
      String feedback = record("Feedback", "ivo@fbl.test");
      KumoRecordShape.check(feedback);
      assertTrue(feedback, feedback.contains("\"id\":\"" + id + "\""));
      assertTrue(feedback, feedback.contains("\"tenant\":\"acme\""));
      assertTrue(feedback, feedback.contains("\"campaign\":\"winter\""));
      assertTrue(feedback, feedback.contains("\"feedback_type\":\"abuse\""));
      assertTrue(feedback, feedback.contains("\"user_agent\":\"FblTest/1.0\""));
      assertTrue(feedback, feedback.contains("\"original_rcpto_to\":[\"<ivo@fbl.test>\"]"));
      assertTrue(feedback, feedback.contains("\"supplemental_trace\":{\"id\":\"" + id + "\""));
    }
  }

  @Test
  public void aSynchronousUserUnknownIsABounceClassifiedInvalidRecipient() throws Exception {
    try (TestSmtpServer mx = new TestSmtpServer(null)) {
      mx.replies(command -> command.startsWith("RCPT") ? "550 5.1.1 user unknown" : null);
      routeTo("sync.test", mx);
      sendCampaign("jan@sync.test");
      await("the Bounce record", WAIT, () -> hasRecord("Bounce", "jan@sync.test", ""));
      String bounce = record("Bounce", "jan@sync.test");
      assertTrue(bounce, bounce.contains("\"bounce_classification\":\"InvalidRecipient\""));
    }
  }

  @Test
  public void theReportListenerNeverRelaysAndKeepsWhatItCannotRead() throws Exception {
    try (SmtpClient smtp = new SmtpClient(reportsPort()).hello()) {
      assertTrue(smtp.send("MAIL FROM:<someone@example.org>").startsWith("250"));
      // Even from 127.0.0.1, a relay host of the default listener.
      String refused = smtp.send("RCPT TO:<victim@elsewhere.test>");
      assertTrue(refused, refused.startsWith("550 5.7.1"));
      assertTrue(smtp.send("RSET").startsWith("250"));
    }
    String letter =
        "From: someone@example.org\r\nTo: bounces@"
            + REPORT_DOMAIN
            + "\r\nSubject: a question\r\n\r\nDo you ship to Norway?\r\n";
    assertTrue(sendReport(letter).startsWith("250 "));
    Path kept = data().resolve("reports/unrecognised");
    await(
        "the letter kept for inspection",
        WAIT,
        () -> {
          try (Stream<Path> files = Files.list(kept)) {
            return files.anyMatch(f -> read(f).contains("Do you ship to Norway?"));
          } catch (java.io.IOException e) {
            return false;
          }
        });
  }

  @Test
  public void reportParsePrintsWhatTheListenerWouldRecord() throws Exception {
    Path folder = Files.createTempDirectory("report-parse");
    Files.writeString(
        folder.resolve("qmail.eml"),
        "From: MAILER-DAEMON@mail.sender.test\r\nTo: bounces@"
            + REPORT_DOMAIN
            + "\r\nSubject: failure notice\r\n\r\n"
            + "Hi. This is the qmail-send program at mail.sender.test.\r\n"
            + "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
            + "\r\n<kim@rcpt.test>:\r\n"
            + "Remote host said: 552 5.2.2 Mailbox full\r\n",
        StandardCharsets.UTF_8);
    Files.writeString(
        folder.resolve("letter.eml"),
        "From: a@b.test\r\nSubject: hello\r\n\r\nhi\r\n",
        StandardCharsets.UTF_8);
    String table = shell("mta:report-parse " + folder);
    assertTrue(table, table.contains("kim@rcpt.test"));
    assertTrue(table, table.contains("QuotaIssues"));
    assertTrue(table, table.contains("neither a delivery status report"));
    List<String> lines = shell("mta:report-parse --json " + folder).lines().toList();
    assertEquals(lines.toString(), 2, lines.size());
    String letter = lines.get(0);
    assertTrue(letter, letter.startsWith("{\"type\":null,\"note\":\"neither"));
    String oob = lines.get(1);
    KumoRecordShape.check(oob.replaceFirst(",\"file\":\"[^\"]*\"}$", "}"));
    assertTrue(oob, oob.contains("\"type\":\"OOB\""));
    assertTrue(oob, oob.contains("\"recipient\":\"kim@rcpt.test\""));
    assertTrue(oob, oob.contains("\"code\":552"));
    assertTrue(oob, oob.contains("\"bounce_classification\":\"QuotaIssues\""));
    assertTrue(oob, oob.endsWith(",\"file\":\"" + folder.resolve("qmail.eml") + "\"}"));
    String missing = shell("mta:report-parse " + folder.resolve("nothing-here.eml"));
    assertTrue(missing, missing.contains("Error: no such file"));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
