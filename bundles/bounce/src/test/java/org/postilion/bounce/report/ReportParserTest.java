package org.postilion.bounce.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postilion.api.bounce.Report;
import org.postilion.api.event.EventRecord;
import org.postilion.api.message.TraceHeader;
import org.postilion.bounce.classify.ShippedRules;
import org.postilion.testkit.KumoRecordShape;

class ReportParserTest {
  private static final TraceHeader TRACES = new TraceHeader(new byte[32]);
  private final ReportParser parser =
      new ReportParser(
          ShippedRules::classifier,
          TRACES,
          Clock.systemUTC(),
          "557f3ad4-2c8c-11ee-976e-782d7e12e173");

  static Report read(ReportParser parser, String file) throws IOException {
    try (InputStream in = Files.newInputStream(corpus(file))) {
      return parser.read(in);
    }
  }

  static Path corpus(String file) {
    return Path.of("src/test/resources/reports", file);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // file, format, recipient, code, enhanced code, classification, text it starts with
    "postfix.eml, rfc3464, alice@rcpt.test, 550, 5.1.1, InvalidRecipient, <alice@rcpt.test>: Recipient",
    "sendmail.eml, rfc3464, bob@rcpt.test, 552, 5.2.2, QuotaIssues, <bob@rcpt.test>... Mailbox full",
    "courier.eml, rfc3464, dave@rcpt.test, 550, 5.0.0, InvalidRecipient, User dave",
    "office365.eml, rfc3464, erin@contoso.test, 550, 5.1.10, InvalidRecipient, RESOLVER.ADR",
    "gmail.eml, rfc3464, frank@rcpt.test, 550, 5.1.1, InvalidRecipient, The email account that",
    "ses.eml, rfc3464, grace@rcpt.test, 550, 5.7.1, SpamBlock, Service unavailable",
    "qmail.eml, qmail, heidi@rcpt.test, 550, 5.1.1, InvalidRecipient, <heidi@rcpt.test>: Recipient",
    "exim.eml, exim, judy@rcpt.test, 550, 5.2.1, InactiveMailbox, The email account",
    "opensmtpd.eml, opensmtpd, niaj@rcpt.test, 552, 5.2.2, QuotaIssues, Mailbox over quota",
    "yahoo.eml, yahoo, olivia@yahoo.test, 554, , InvalidRecipient, delivery error: dd This user",
    "mail-delivery-subsystem.eml, sendmail, peggy@rcpt.test, 550, 5.1.1, InvalidRecipient,"
        + " <peggy@rcpt.test>... User unknown",
    "truncated-mime.eml, postfix, uma@rcpt.test, 550, 5.1.1, InvalidRecipient, <uma@rcpt.test>:",
    "wrong-charset.eml, qmail, xavier@rcpt.test, 550, 5.1.1, InvalidRecipient, Benutzer unbekannt",
    "forwarded-dsn.eml, rfc3464, alice@rcpt.test, 550, 5.1.1, InvalidRecipient, <alice@rcpt.test>:",
  })
  void readsEachBounceFormat(
      String file,
      String format,
      String recipient,
      int code,
      String enhanced,
      String classification,
      String text)
      throws IOException {
    Report report = read(parser, file);
    assertEquals(Report.Kind.DELIVERY_STATUS, report.kind(), file + ": " + report);
    assertEquals(format, report.format(), file);
    EventRecord first = report.records().get(0);
    report.records().forEach(r -> KumoRecordShape.check(r.toJson()));
    assertEquals("OOB", first.type().recordName());
    assertEquals(recipient, first.recipient());
    assertEquals(code, first.response().code());
    assertEquals(enhanced, first.response().enhancedCode());
    assertEquals(classification, first.bounceClassification(), first.response().toString());
    assertTrue(
        first.response().content().startsWith(text.strip()),
        file + ": " + first.response().content());
  }

  @Test
  void everyFailedRecipientOfABounceIsARecordAndOnlyThose() throws IOException {
    Report sendmail = read(parser, "sendmail.eml");
    assertEquals(1, sendmail.records().size(), "carol was only delayed: " + sendmail);
    Report qmail = read(parser, "qmail.eml");
    assertEquals(2, qmail.records().size());
    EventRecord ivan = qmail.records().get(1);
    assertEquals("ivan@other.test", ivan.recipient());
    assertEquals("5.1.1", ivan.response().enhancedCode(), "from qmail's (#5.1.1)");
    Report exim = read(parser, "exim.eml");
    assertEquals(2, exim.records().size());
    assertEquals("mallory@gone.test", exim.records().get(1).recipient());
    assertEquals("BadDomain", exim.records().get(1).bounceClassification());
    Report forwarded = read(parser, "forwarded-dsn.eml");
    assertTrue(forwarded.note().contains("forwarded"), forwarded.note());
  }

  @Test
  void aDelayWarningOrAReportWithoutRecipientsRecordsNothingAndSaysWhy() throws IOException {
    Report delayed = read(parser, "postfix-delayed.eml");
    assertEquals(Report.Kind.DELIVERY_STATUS, delayed.kind());
    assertTrue(delayed.records().isEmpty());
    assertTrue(delayed.note().contains("delay"), delayed.note());
    Report empty = read(parser, "dsn-no-recipient.eml");
    assertTrue(empty.records().isEmpty());
    assertTrue(empty.note().contains("no failed recipient"), empty.note());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "arf-abuse.eml, abuse",
    "arf-fraud.eml, fraud",
    "arf-virus.eml, virus",
    "arf-other.eml, other",
    "arf-not-spam.eml, not-spam",
    "arf-auth-failure.eml, auth-failure",
  })
  void readsFeedbackReportsInKumoMtasShape(String file, String type) throws IOException {
    Report report = read(parser, file);
    assertEquals(Report.Kind.FEEDBACK, report.kind());
    assertNull(report.note(), report.note());
    EventRecord record = report.records().get(0);
    assertEquals("Feedback", record.type().recordName());
    assertEquals("sybil@rcpt.test", record.recipient());
    Map<String, Object> feedback = record.feedbackReport();
    assertEquals(type, feedback.get("feedback_type"));
    assertEquals("SomeGenerator/1.0", feedback.get("user_agent"));
    assertEquals("1", feedback.get("version"));
    assertEquals("2026-12-01T10:00:00Z", feedback.get("arrival_date"));
    assertEquals(2, feedback.get("incidents"));
    assertEquals("<bounces@news.example.org>", feedback.get("original_mail_from"));
    assertEquals(List.of("<sybil@rcpt.test>"), feedback.get("original_rcpto_to"));
    assertEquals(
        Map.of("mta_type", "dns", "name", "fbl.provider.test"), feedback.get("reporting_mta"));
    assertEquals("198.51.100.7", feedback.get("source_ip"));
    assertEquals(List.of("example.org"), feedback.get("reported_domain"));
    assertEquals(List.of("http://example.org/offers"), feedback.get("reported_uri"));
    assertEquals(1, ((List<?>) feedback.get("authentication_results")).size());
    assertTrue(((String) feedback.get("original_message")).contains("Subject: December offers"));
    String json = record.toJson();
    KumoRecordShape.check(json);
    assertTrue(json.contains("\"type\":\"Feedback\""), json);
    assertTrue(json.contains("\"feedback_report\":{\"feedback_type\":\"" + type + "\""), json);
  }

  @Test
  void unknownArfFieldsAreExtensionsAndAMalformedBlockStillGivesARecord() throws IOException {
    Map<String, Object> abuse = read(parser, "arf-abuse.eml").records().get(0).feedbackReport();
    assertEquals(Map.of("removal-recipient", List.of("sybil@rcpt.test")), abuse.get("extensions"));
    Report malformed = read(parser, "arf-malformed.eml");
    assertEquals(Report.Kind.FEEDBACK, malformed.kind());
    assertEquals("trent@rcpt.test", malformed.records().get(0).recipient());
    assertTrue(malformed.note().contains("no feedback-type"), malformed.note());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "autoreply-rfc3834.eml, victor@rcpt.test",
    "autoreply-exchange.eml, walter@contoso.test",
    "autoreply-subject-only.eml, rene@rcpt.test",
  })
  void autoRepliesAreClassifiedAutoReplyNeverABounce(String file, String recipient)
      throws IOException {
    Report report = read(parser, file);
    assertEquals(Report.Kind.AUTO_REPLY, report.kind());
    EventRecord record = report.records().get(0);
    assertEquals(recipient, record.recipient());
    assertEquals("AutoReply", record.bounceClassification());
    assertEquals(250, record.response().code());
  }

  @Test
  void anOrdinaryLetterIsUnrecognisedAndSaysSo() throws IOException {
    Report report = read(parser, "plain-letter.eml");
    assertEquals(Report.Kind.UNRECOGNISED, report.kind());
    assertTrue(report.records().isEmpty());
    assertTrue(report.note().contains("neither"), report.note());
  }

  @Test
  void aVerifiedTraceHeaderTiesTheRecordToTheOriginalMessage() throws IOException {
    String value =
        TRACES.value(
            new TraceHeader.Trace(
                "0193a1b2c3d4", "acme", "december", "december:acme@rcpt.test", "alice@rcpt.test"));
    String report =
        Files.readString(corpus("postfix.eml"), StandardCharsets.UTF_8).replace("TRACE", value);
    EventRecord record =
        parser
            .read(new ByteArrayInputStream(report.getBytes(StandardCharsets.UTF_8)))
            .records()
            .get(0);
    assertEquals("0193a1b2c3d4", record.id());
    assertEquals("acme", record.tenant());
    assertEquals("december", record.campaign());
    assertEquals("december:acme@rcpt.test", record.queue());
    // A header made with another key ties nothing: reports cannot claim any message.
    String forged =
        new TraceHeader(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
            .value(new TraceHeader.Trace("0193a1b2c3d4", "acme", null, null, null));
    String other =
        Files.readString(corpus("postfix.eml"), StandardCharsets.UTF_8).replace("TRACE", forged);
    EventRecord untied =
        parser
            .read(new ByteArrayInputStream(other.getBytes(StandardCharsets.UTF_8)))
            .records()
            .get(0);
    assertEquals("", untied.id());
    assertNull(untied.tenant());
  }

  @Test
  void aFiftyMegabyteAttachmentIsSkippedNotKept() throws IOException {
    String head =
        Files.readString(corpus("postfix.eml"), StandardCharsets.UTF_8).replace("--BOUNDARY--", "");
    String attachmentHead =
        "--BOUNDARY\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\n";
    byte[] line =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    int lines = 50 * 1024 * 1024 / line.length;
    long total = (long) lines * line.length;
    InputStream body =
        new InputStream() {
          long at;

          @Override
          public int read() {
            return at < total ? line[(int) (at++ % line.length)] : -1;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (at >= total) {
              return -1;
            }
            int n = (int) Math.min(len, total - at);
            for (int i = 0; i < n; i++) {
              b[off + i] = line[(int) (at++ % line.length)];
            }
            return n;
          }
        };
    InputStream message =
        new SequenceInputStream(
            Collections.enumeration(
                List.of(
                    new ByteArrayInputStream(
                        (head + attachmentHead).getBytes(StandardCharsets.UTF_8)),
                    body,
                    new ByteArrayInputStream(
                        "\r\n--BOUNDARY--\r\n".getBytes(StandardCharsets.US_ASCII)))));
    long start = System.nanoTime();
    Mail mail = Mail.read(message);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 20_000, "50 MB read in " + millis + " ms");
    Mail.Part attachment =
        mail.parts.stream()
            .filter(p -> p.mimeType().equals("application/octet-stream"))
            .findFirst()
            .orElseThrow();
    assertNull(attachment.text(), "the attachment is skipped, not kept");
    assertNotNull(mail.firstText("message/delivery-status"));
  }

  private Report readText(String message, java.nio.charset.Charset charset) throws IOException {
    return parser.read(new ByteArrayInputStream(message.getBytes(charset)));
  }

  @Test
  void hostileReportsAreReadInBoundedTimeAndNeverThrow() {
    // Each of these took minutes to hours, or threw, before the patterns and limits were bounded.
    String backtracking =
        "From: MAILER-DAEMON@x.test\r\nSubject: Undelivered Mail\r\n"
            + "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nbob@example.com:\r\n"
            + (" ".repeat(250) + "550 " + " ".repeat(740) + "\u0085x\r\n").repeat(24);
    String feedbackBlocks =
        "Content-Type: multipart/report; report-type=feedback-report; boundary=B\r\n\r\n"
            + "--B\r\nContent-Type: message/feedback-report\r\n\r\n"
            + java.util.stream.IntStream.range(0, 30_000)
                .mapToObj(i -> "f" + i + ": x\r\n\r\n")
                .collect(java.util.stream.Collectors.joining())
            + "--B--\r\n";
    String longDiagnostic =
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
            + "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
            + "Final-Recipient: rfc822; a@b.test\r\nAction: failed\r\nStatus: 5.0.0\r\n"
            + "Diagnostic-Code: smtp; 550 a"
            + " ".repeat(250_000)
            + "b\r\n\r\n--B--\r\n";
    String arrivalDate =
        "Content-Type: multipart/report; report-type=feedback-report; boundary=B\r\n\r\n"
            + "--B\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n"
            + "Arrival-Date: "
            + "(".repeat(250_000)
            + "\r\n\r\n--B--\r\n";
    String scripts =
        "From: MAILER-DAEMON@x.test\r\nContent-Type: text/html\r\n\r\n"
            + "<script>".repeat(30_000)
            + "<".repeat(30_000)
            + ">";
    String nested =
        "Content-Type: message/rfc822\r\n\r\n".repeat(20_000) + "Subject: deep\r\n\r\nx\r\n";
    String badAction =
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
            + "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            + "Final-Recipient: rfc822; a@b.test\r\nAction: (\r\nStatus: 5.0.0\r\n\r\n--B--\r\n";
    for (String hostile :
        List.of(
            backtracking,
            feedbackBlocks,
            longDiagnostic,
            arrivalDate,
            scripts,
            nested,
            badAction)) {
      Report report =
          org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
              java.time.Duration.ofSeconds(20),
              () -> readText(hostile, StandardCharsets.ISO_8859_1),
              hostile.substring(0, Math.min(120, hostile.length())));
      assertNotNull(report.kind());
    }
  }

  @Test
  void aQuotedTraceHeaderTiesOnlyTheRecipientItNames() throws IOException {
    String value =
        TRACES.value(
            new TraceHeader.Trace("0193a1b2c3d4", "acme", "december", "q", "alice@rcpt.test"));
    String report =
        "From: MAILER-DAEMON@x.test\r\nSubject: failure notice\r\n\r\n"
            + "Hi. This is the qmail-send program at x.test.\r\n\r\n"
            + "<alice@rcpt.test>:\r\nRemote host said: 550 5.1.1 no such user\r\n\r\n"
            + "<mallory@victim.test>:\r\nRemote host said: 550 5.1.1 no such user\r\n\r\n"
            + "--- Below this line is a copy of the message.\r\n\r\n"
            + "X-Postilion-Ref: "
            + value
            + "\r\nSubject: offers\r\n";
    List<EventRecord> records = readText(report, StandardCharsets.UTF_8).records();
    assertEquals("0193a1b2c3d4", records.get(0).id());
    assertEquals("mallory@victim.test", records.get(1).recipient());
    assertEquals("", records.get(1).id(), "not tied by another recipient's trace header");
    assertNull(records.get(1).tenant());
  }
}
