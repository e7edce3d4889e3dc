package org.postilion.http.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.Response;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.http.inject.Injector.Client;
import org.postilion.http.inject.Injector.Result;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.web.Json;
import org.postilion.http.web.RequestException;

class InjectorTest {
  private final List<Submission> spooled = new ArrayList<>();
  private final Reception reception =
      new Reception() {
        @Override
        public String receive(Submission submission) throws ReceptionException {
          if (submission.recipients().contains("full@example.net")) {
            throw new ReceptionException(Response.of(451, "4.3.0", "spool full"));
          }
          spooled.add(submission);
          return "id" + spooled.size();
        }

        @Override
        public void refused(Refusal refusal) {}
      };
  private final Injector injector = new Injector(new MessageComposer(new Templates(1 << 20)));
  private final Client client = new Client("192.0.2.1", "HTTP", "acme");

  private RenderBudget budget = new RenderBudget(Duration.ofSeconds(5), 100_000, 1 << 20);

  private Result inject(String json) throws RequestException {
    return injector.inject(
        InjectionRequest.parse(Json.parse(json.getBytes(StandardCharsets.UTF_8))),
        client,
        reception,
        budget);
  }

  private static Message parse(byte[] content) throws Exception {
    return new DefaultMessageBuilder().parseMessage(new ByteArrayInputStream(content));
  }

  private static String text(org.apache.james.mime4j.dom.Entity entity) throws Exception {
    return new String(
        ((SingleBody) entity.getBody()).getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  @Test
  void builderMakesMixedAlternativeMimeWithEncodedSubjectAndAttachment() throws Exception {
    Result result =
        inject(
            """
            {"envelope_sender": "news@example.com",
             "recipients": [{"email": "ann@example.net", "name": "Ann Émile", "substitutions": {"name": "Ann"}}],
             "substitutions": {"items": ["tea", "cake"], "vip": true, "tag": "<x>"},
             "content": {"subject": "Grüße, {{ name }}", "from": {"email": "news@example.com", "name": "Nëws"},
               "headers": {"X-Campaign": "spring"},
               "text_body": "Hello {{ name }}{% if vip %}, our VIP{% endif %}:{% for i in items %} {{ i }}{% endfor %}",
               "html_body": "<p>Hello {{ name }} &amp; <b>{{ tag }}</b></p>",
               "attachments": [{"data": "aGVsbG8=", "base64": true, "content_type": "text/plain", "file_name": "hello.txt"}]}}
            """);
    assertEquals(200, result.status());
    assertEquals(1, result.outcome().successCount());
    Submission submission = spooled.get(0);
    assertEquals("acme", submission.tenant());
    assertEquals(List.of("ann@example.net"), submission.recipients());
    String raw = new String(bytes(submission.content()), StandardCharsets.US_ASCII);
    assertTrue(raw.contains("Subject: =?"), raw);
    assertFalse(raw.matches("(?s).*[^\\r]\\n.*"), "only CRLF line ends");

    Message message = parse(bytes(submission.content()));
    assertEquals("Grüße, Ann", message.getSubject());
    assertEquals(
        "Ann Émile",
        ((org.apache.james.mime4j.dom.address.Mailbox) message.getTo().get(0)).getName());
    assertEquals("multipart/mixed", message.getMimeType());
    Multipart mixed = (Multipart) message.getBody();
    assertEquals(2, mixed.getCount());
    Multipart alternative = (Multipart) mixed.getBodyParts().get(0).getBody();
    assertEquals("multipart/alternative", mixed.getBodyParts().get(0).getMimeType());
    assertEquals("Hello Ann, our VIP: tea cake", text(alternative.getBodyParts().get(0)).trim());
    assertEquals(
        "<p>Hello Ann &amp; <b>&lt;x&gt;</b></p>", text(alternative.getBodyParts().get(1)).trim());
    var attachment = mixed.getBodyParts().get(1);
    assertEquals("hello.txt", attachment.getFilename());
    assertEquals("attachment", attachment.getDispositionType());
    assertEquals("hello", text(attachment));
    assertTrue(raw.contains("X-Campaign: spring"));
  }

  @Test
  void inlineImageGoesIntoMultipartRelated() throws Exception {
    inject(
        """
        {"envelope_sender": "a@example.com", "recipients": [{"email": "b@example.net"}],
         "content": {"html_body": "<img src=\\"cid:logo\\">",
           "attachments": [{"data": "iVBORw0K", "base64": true, "content_type": "image/png", "content_id": "logo"}]}}
        """);
    Message message = parse(bytes(spooled.get(0).content()));
    assertEquals("multipart/related", message.getMimeType());
    var image = ((Multipart) message.getBody()).getBodyParts().get(1);
    assertEquals("<logo>", image.getHeader().getField("Content-ID").getBody());
    assertEquals("a@example.com", message.getFrom().get(0).getAddress());
    assertTrue(((Multipart) message.getBody()).getBodyParts().get(0).getBody() instanceof TextBody);
  }

  @Test
  void badRecipientsFailAloneAndTheOthersAreQueued() throws Exception {
    Result result =
        inject(
            """
            {"envelope_sender": "a@example.com",
             "recipients": [{"email": "ok@example.net", "substitutions": {"name": "Ok"}},
                            {"email": "not an address"},
                            {"email": "typo@example.net", "substitutions": {"nmae": "x"}}],
             "content": {"subject": "Hi {{ name }}", "text_body": "x"}}
            """);
    assertEquals(422, result.status());
    assertEquals(1, result.outcome().successCount());
    assertEquals(2, result.outcome().failCount());
    assertEquals(
        List.of("not an address", "typo@example.net"), result.outcome().failedRecipients());
    assertTrue(
        result.outcome().errors().get(0).startsWith("recipients[1].email"),
        result.outcome().errors().toString());
    assertTrue(
        result.outcome().errors().get(1).contains("unknown template variable 'name'"),
        result.outcome().errors().toString());
    assertEquals(1, spooled.size());
  }

  @Test
  void rawContentWithoutPerRecipientVariablesIsOneMessageForAll() throws Exception {
    Result result =
        inject(
            """
            {"envelope_sender": "a@example.com", "substitutions": {"who": "all"},
             "recipients": [{"email": "one@example.net"}, {"email": "two@example.net"}],
             "content": "Subject: hi\\n\\nHello {{ who }}\\n"}
            """);
    assertEquals(200, result.status());
    assertEquals(2, result.outcome().successCount());
    assertEquals(1, spooled.size());
    assertEquals(List.of("one@example.net", "two@example.net"), spooled.get(0).recipients());
    assertEquals(
        "Subject: hi\r\n\r\nHello all\r\n",
        new String(bytes(spooled.get(0).content()), StandardCharsets.UTF_8));
  }

  @Test
  void serverSideFailureIs503() throws Exception {
    Result result =
        inject(
            """
            {"envelope_sender": "a@example.com",
             "recipients": [{"email": "full@example.net", "substitutions": {"x": 1}}, {"email": "fine@example.net", "substitutions": {"x": 2}}],
             "content": {"text_body": "{{ x }}"}}
            """);
    assertEquals(503, result.status());
    assertEquals(1, result.outcome().successCount());
    assertEquals(List.of("full@example.net"), result.outcome().failedRecipients());
  }

  @Test
  void wholeRequestFaultsNameTheField() {
    assertField(
        "recipients",
        "{\"envelope_sender\": \"a@example.com\", \"recipients\": [], \"content\": \"x\"}");
    assertField(
        "envelope_sender",
        "{\"recipients\": [{\"email\": \"b@example.net\"}], \"content\": \"x\"}");
    assertField(
        "content",
        "{\"envelope_sender\": \"a@example.com\", \"recipients\": [{\"email\": \"b@example.net\"}]}");
    assertField(
        "content.attachments[0].data",
        "{\"envelope_sender\": \"a@example.com\", \"recipients\": [{\"email\": \"b@example.net\"}], \"content\": {\"attachments\": [{\"data\": \"!!\", \"base64\": true}]}}");
    assertField(
        "content.subject",
        "{\"envelope_sender\": \"a@example.com\", \"recipients\": [{\"email\": \"b@example.net\"}], \"content\": {\"subject\": \"{% if %}\", \"text_body\": \"x\"}}");
    RequestException malformed =
        org.junit.jupiter.api.Assertions.assertThrows(
            RequestException.class, () -> inject("{\"envelope_sender\": "));
    assertEquals(400, malformed.status());
    assertTrue(
        malformed.getMessage().startsWith("malformed JSON at line 1"), malformed.getMessage());
  }

  @Test
  void oneRecipientsRenderingCannotChangeTheNextOnesSubstitutions() throws Exception {
    Result result =
        inject(
            """
            {"envelope_sender": "a@example.com", "substitutions": {"items": [3, 1, 2]},
             "recipients": [{"email": "one@example.net", "substitutions": {"n": 1}},
                            {"email": "two@example.net", "substitutions": {"n": 2}}],
             "content": {"text_body": "{{ items | reverse | join }} {{ items | sort | join }} {{ (items + n) | join }}"}}
            """);
    assertEquals(200, result.status(), result.outcome().errors().toString());
    assertEquals("213 123 3121", text(parse(bytes(spooled.get(0).content()))).trim());
    assertEquals("213 123 3122", text(parse(bytes(spooled.get(1).content()))).trim());
  }

  @Test
  void aCancelledRequestQueuesNoMoreRecipientsAndSaysSo() throws Exception {
    budget.cancel("the request took longer than 60s (request_timeout)");
    Result result =
        inject(
            """
            {"envelope_sender": "a@example.com",
             "recipients": [{"email": "one@example.net", "substitutions": {"n": 1}},
                            {"email": "two@example.net", "substitutions": {"n": 2}}],
             "content": {"text_body": "no template at all"}}
            """);
    assertEquals(503, result.status());
    assertEquals(2, result.outcome().failCount());
    assertTrue(
        result.outcome().errors().get(0).contains("request_timeout"),
        result.outcome().errors().toString());
    assertTrue(spooled.isEmpty());
  }

  @Test
  void lineBreaksInAttachmentFieldsAreRefusedNamingTheField() {
    for (String field : List.of("content_id", "file_name", "content_type")) {
      assertField(
          "content.attachments[0]." + field,
          "{\"envelope_sender\": \"a@example.com\", \"recipients\": [{\"email\": \"b@example.net\"}],"
              + " \"content\": {\"text_body\": \"x\", \"attachments\": [{\"data\": \"x\", \""
              + field
              + "\": \"a\\r\\nBcc: victim@example.org\"}]}}");
    }
  }

  private void assertField(String field, String json) {
    RequestException e =
        org.junit.jupiter.api.Assertions.assertThrows(RequestException.class, () -> inject(json));
    assertEquals(field, e.field(), e.describe());
    assertEquals(400, e.status());
  }

  private static byte[] bytes(org.postilion.api.delivery.MessageContent content) {
    try (java.io.InputStream in = content.open()) {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
