package org.postilion.bounce.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postilion.api.delivery.Response;

class RulesClassifierTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown | InvalidRecipient",
        "550 5.1.1 The email account that you tried to reach does not exist. | InvalidRecipient",
        "550 5.2.1 The email account that you tried to reach is disabled. | InactiveMailbox",
        "552 5.2.2 The recipient's inbox is out of storage space | QuotaIssues",
        "452 4.2.2 The recipient's inbox is out of storage space | QuotaIssues",
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
            + " | SpamBlock",
        "550 5.7.1 Our system has detected that this message is likely unsolicited mail | SpamContent",
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred | SpamBlock",
        "550 5.7.26 This mail has been blocked because the sender is unauthenticated"
            + " | AuthenticationFailed",
        "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. (S3150) | SpamBlock",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
            + " | InvalidRecipient",
        "554 delivery error: dd This user doesn't have a yahoo.com account | InvalidRecipient",
        "554 5.7.9 Message not accepted for policy reasons | AuthenticationFailed",
        "550 5.4.1 Recipient address rejected: Access denied | NoAnswerFromHost",
        "551 5.4.7 message expired after PT168H in the queue | MessageExpired",
        "451 4.4.3 no answer within 30s on where the mail goes | DNSFailure",
        "554 5.7.1 Relay access denied | RelayDenied",
        "550 5.7.1 Message rejected: virus found | VirusRelated",
        "452 4.5.3 Too many recipients | TooManyRecipients",
        "550 5.7.1 Sender IP reputation is poor | SpamBlock",
        "450 4.7.1 Greylisted, please try again later | TransientFailure",
        "550 Requested action not taken: mailbox unavailable | InvalidRecipient",
        "250 2.0.0 OK | Uncategorized",
        "550 something nobody ever wrote | Uncategorized",
      })
  void theShippedRulesClassifyTheRepliesOfCommonProviders(String line, String expected) {
    RulesClassifier classifier = ShippedRules.classifier();
    String[] parts = line.split(" ", 3);
    Response response =
        parts[1].matches("\\d\\.\\d+\\.\\d+")
            ? Response.of(Integer.parseInt(parts[0]), parts[1], parts[2])
            : Response.of(Integer.parseInt(parts[0]), null, line.substring(4));
    assertEquals(expected, classifier.classify(response), line);
    assertEquals(expected, classifier.classify(response), "the same from the cache");
  }

  @Test
  void theFirstMatchingRuleWinsAcrossFiles() {
    RulesClassifier classifier =
        new RulesClassifier(
            List.of(
                new RulesFile.Rule("Mine", Pattern.compile("^550 5\\.1\\.1 .*special"), "10-local"),
                new RulesFile.Rule("InvalidRecipient", Pattern.compile("^550 5\\.1\\.1 "), "90")),
            16,
            16);
    assertEquals("Mine", classifier.classify(Response.of(550, "5.1.1", "a special case")));
    assertEquals("InvalidRecipient", classifier.classify(Response.of(550, "5.1.1", "other")));
  }

  @Test
  void aRuleThatBacktracksForeverOnAHostileReplyCountsAsNoMatch() {
    RulesClassifier classifier =
        new RulesClassifier(
            List.of(
                new RulesFile.Rule("Slow", Pattern.compile("^(a+)+$"), "evil"),
                new RulesFile.Rule("Next", Pattern.compile("a{10}"), "next")),
            16,
            16);
    long start = System.nanoTime();
    String hostile = "a".repeat(40) + "!";
    assertEquals("Next", classifier.classify(hostile));
    assertEquals(true, System.nanoTime() - start < 2_000_000_000L);
  }

  @Test
  void multiLineRepliesAreMatchedAsOneLine() {
    RulesClassifier classifier =
        new RulesClassifier(
            List.of(new RulesFile.Rule("Joined", Pattern.compile("first second"), "x")), 16, 16);
    assertEquals("Joined", classifier.classify(Response.of(550, null, "first\r\nsecond")));
  }
}
