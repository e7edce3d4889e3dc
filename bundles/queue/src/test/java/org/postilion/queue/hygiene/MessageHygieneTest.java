package org.postilion.queue.hygiene;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.postilion.testkit.TypedConfig;

class MessageHygieneTest {
  private static final Instant RECEIVED = Instant.parse("2026-11-23T09:08:07Z");

  private static MessageHygiene hygiene(Map<String, Object> settings) {
    MessageHygiene hygiene = new MessageHygiene();
    hygiene.configure(TypedConfig.of(MessageHygiene.Config.class, settings));
    hygiene.zone(ZoneOffset.UTC);
    return hygiene;
  }

  private static ReceivedMessage message(String content, Submission submission) {
    return new ReceivedMessage(
        "0ABC", RECEIVED, submission, content.getBytes(StandardCharsets.UTF_8));
  }

  private static Submission plain(List<String> recipients) {
    return new Submission(
        "a@example.com",
        recipients,
        MessageContent.of(new byte[0]),
        "ESMTP",
        "192.0.2.7",
        null,
        "client.example.com",
        null,
        null,
        null);
  }

  private static String text(ReceivedMessage message) {
    try (java.io.InputStream in = message.open()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void addsMissingFieldsAndLeavesTheBodyAlone() throws ReceptionException {
    ReceivedMessage message =
        message("From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n", plain(List.of("b@x.org")));
    hygiene(Map.of("hostname", "mta.example.net")).filter(message);
    assertEquals(
        "Received: from client.example.com ([192.0.2.7])\r\n"
            + "\tby mta.example.net (Postilion) with ESMTP id 0ABC\r\n"
            + "\tfor <b@x.org>; Mon, 23 Nov 2026 09:08:07 +0000\r\n"
            + "From: a@example.com\r\nSubject: hi\r\n"
            + "Message-ID: <0ABC@mta.example.net>\r\n"
            + "Date: Mon, 23 Nov 2026 09:08:07 +0000\r\n"
            + "\r\nbody\r\n",
        text(message));
  }

  @Test
  void keepsExistingMessageIdAndDateAndNamesTls() throws ReceptionException {
    Submission tls =
        new Submission(
            "a@example.com",
            List.of("b@x.org", "c@x.org"),
            MessageContent.of(new byte[0]),
            "ESMTPS",
            "192.0.2.7",
            null,
            null,
            "TLSv1.3",
            "TLS_AES_256_GCM_SHA384",
            null);
    String original =
        "From: a@example.com\r\nMessage-ID: <m@a>\r\nDate: Sun, 1 Nov 2026\r\n\r\nx\r\n";
    ReceivedMessage message = message(original, tls);
    hygiene(Map.of("hostname", "mta.example.net")).filter(message);
    assertEquals(
        "Received: from unknown ([192.0.2.7])\r\n"
            + "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n"
            + "\tby mta.example.net (Postilion) with ESMTPS id 0ABC; Mon, 23 Nov 2026 09:08:07"
            + " +0000\r\n"
            + original,
        text(message));
  }

  @Test
  void refusesNoFromAndTwoFroms() {
    MessageHygiene hygiene = hygiene(Map.of());
    ReceptionException none =
        assertThrows(
            ReceptionException.class,
            () -> hygiene.filter(message("Subject: x\r\n\r\nx\r\n", plain(List.of("b@x.org")))));
    assertEquals(550, none.response().code());
    assertEquals("5.6.0", none.response().enhancedCode());
    ReceptionException two =
        assertThrows(
            ReceptionException.class,
            () ->
                hygiene.filter(
                    message("From: a@x\r\nfrom: b@y\r\n\r\nx\r\n", plain(List.of("b@x.org")))));
    assertTrue(two.response().content().contains("2 From"), two.response().content());
  }

  @Test
  void eachCheckCanBeSwitchedOff() throws ReceptionException {
    String original = "Subject: x\r\n\r\nx\r\n";
    ReceivedMessage message = message(original, plain(List.of("b@x.org")));
    hygiene(
            Map.of(
                "require_single_from", false,
                "add_message_id", false,
                "add_date", false,
                "add_received", false))
        .filter(message);
    assertEquals(original, text(message));
  }

  @Test
  void endsAHeaderOnlyMessageProperly() throws ReceptionException {
    ReceivedMessage message = message("From: a@x\r\nSubject: x", plain(List.of("b@x.org")));
    hygiene(Map.of("add_received", false, "add_date", false, "hostname", "h")).filter(message);
    assertEquals("From: a@x\r\nSubject: x\r\nMessage-ID: <0ABC@h>\r\n\r\n", text(message));
  }
}
