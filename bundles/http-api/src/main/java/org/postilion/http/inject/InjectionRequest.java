package org.postilion.http.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.regex.Pattern;
import org.postilion.http.web.RequestException;

/**
 * A request to {@code /api/inject/v1} in KumoMTA's format. Whole-request faults (no content, no
 * recipients) are thrown while parsing; a recipient's own faults are kept in {@link
 * Recipient#problem()} so that the other recipients still go.
 */
record InjectionRequest(
    String envelopeSender,
    List<Recipient> recipients,
    Content content,
    Map<String, Object> substitutions) {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern CONTROL = Pattern.compile("[\\x00-\\x1f\\x7f]");
  private static final Pattern CONTENT_ID = Pattern.compile("[\\x21-\\x7e]+");

  /** One recipient; {@code problem} says why it cannot be accepted, or is {@code null}. */
  record Recipient(
      String field, String email, String name, Map<String, Object> substitutions, String problem) {}

  /** What the message is made of. */
  sealed interface Content permits Raw, Built {}

  /** An RFC 5322 message, itself a template. */
  record Raw(String text) implements Content {}

  /** The parts of a message for the server to assemble. */
  record Built(
      String subject,
      Mailbox from,
      Mailbox replyTo,
      Map<String, String> headers,
      String textBody,
      String htmlBody,
      List<Attachment> attachments)
      implements Content {}

  record Mailbox(String email, String name) {}

  /**
   * An attachment; one with a {@code contentId} is inline (multipart/related), e.g. an image the
   * HTML refers to as {@code cid:}.
   */
  record Attachment(byte[] data, String contentType, String fileName, String contentId) {}

  static InjectionRequest parse(JsonNode root) throws RequestException {
    if (root == null || !root.isObject()) {
      throw RequestException.badField(null, "the body must be a JSON object");
    }
    String sender = requiredText(root, "envelope_sender");
    String senderProblem = EmailAddresses.problem(sender);
    if (senderProblem != null) {
      throw RequestException.badField("envelope_sender", senderProblem);
    }
    return new InjectionRequest(
        sender,
        recipients(root.get("recipients")),
        content(root.get("content")),
        substitutions("substitutions", root.get("substitutions")));
  }

  private static List<Recipient> recipients(JsonNode node) throws RequestException {
    if (node == null || !node.isArray() || node.isEmpty()) {
      throw RequestException.badField("recipients", "a non-empty array is required");
    }
    List<Recipient> recipients = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      String field = "recipients[" + i + "]";
      JsonNode entry = node.get(i);
      if (!entry.isObject()) {
        recipients.add(new Recipient(field, null, null, Map.of(), field + ": must be an object"));
        continue;
      }
      JsonNode email = entry.get("email");
      String address = email != null && email.isTextual() ? email.asText().trim() : null;
      String problem = EmailAddresses.problem(address);
      Map<String, Object> substitutions = Map.of();
      try {
        substitutions = substitutions(field + ".substitutions", entry.get("substitutions"));
      } catch (RequestException e) {
        problem = e.describe();
      }
      recipients.add(
          new Recipient(
              field,
              address,
              optionalText(entry, "name"),
              substitutions,
              problem == null
                  ? null
                  : problem.startsWith(field) ? problem : field + ".email: " + problem));
    }
    return recipients;
  }

  private static Content content(JsonNode node) throws RequestException {
    if (node == null || node.isNull()) {
      throw RequestException.badField("content", "is required");
    }
    if (node.isTextual()) {
      return new Raw(node.asText());
    }
    if (!node.isObject()) {
      throw RequestException.badField("content", "must be a string or an object");
    }
    String text = textField("content.text_body", node.get("text_body"));
    String html = textField("content.html_body", node.get("html_body"));
    List<Attachment> attachments = attachments(node.get("attachments"));
    if (text == null && html == null && attachments.isEmpty()) {
      throw RequestException.badField(
          "content", "needs a text_body, an html_body or an attachment");
    }
    return new Built(
        textField("content.subject", node.get("subject")),
        mailbox("content.from", node.get("from")),
        mailbox("content.reply_to", node.get("reply_to")),
        headers(node.get("headers")),
        text,
        html,
        attachments);
  }

  private static Mailbox mailbox(String field, JsonNode node) throws RequestException {
    if (node == null || node.isNull()) {
      return null;
    }
    if (node.isTextual()) {
      return checked(field, new Mailbox(node.asText().trim(), null));
    }
    if (!node.isObject()) {
      throw RequestException.badField(field, "must be an object {email, name}");
    }
    JsonNode email = node.get("email");
    if (email == null || !email.isTextual()) {
      throw RequestException.badField(field + ".email", "is required");
    }
    return checked(
        field, new Mailbox(email.asText().trim(), textField(field + ".name", node.get("name"))));
  }

  private static Mailbox checked(String field, Mailbox mailbox) throws RequestException {
    String problem = EmailAddresses.problem(mailbox.email());
    if (problem != null) {
      throw RequestException.badField(field + ".email", problem);
    }
    return mailbox;
  }

  private static Map<String, String> headers(JsonNode node) throws RequestException {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw RequestException.badField("content.headers", "must be an object of name: value");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (Iterator<Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Entry<String, JsonNode> header = it.next();
      String field = "content.headers." + header.getKey();
      if (!header.getKey().matches("[\\x21-\\x39\\x3b-\\x7e]+")) {
        throw RequestException.badField(field, "not a valid header name");
      }
      if (!header.getValue().isTextual()) {
        throw RequestException.badField(field, "the value must be a string");
      }
      if (header.getValue().asText().matches("(?s).*[\\r\\n].*")) {
        throw RequestException.badField(field, "the value must not contain line breaks");
      }
      headers.put(header.getKey(), header.getValue().asText());
    }
    return headers;
  }

  private static List<Attachment> attachments(JsonNode node) throws RequestException {
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw RequestException.badField("content.attachments", "must be an array");
    }
    List<Attachment> attachments = new ArrayList<>();
    for (int i = 0; i < node.size(); i++) {
      String field = "content.attachments[" + i + "]";
      JsonNode entry = node.get(i);
      if (!entry.isObject()) {
        throw RequestException.badField(field, "must be an object");
      }
      JsonNode data = entry.get("data");
      if (data == null || !data.isTextual()) {
        throw RequestException.badField(field + ".data", "is required");
      }
      byte[] bytes;
      if (entry.path("base64").asBoolean(false)) {
        try {
          bytes = Base64.getDecoder().decode(data.asText().replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
          throw RequestException.badField(field + ".data", "is not valid base64");
        }
      } else {
        bytes = data.asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      }
      String contentType = textField(field + ".content_type", entry.get("content_type"));
      if (contentType != null && !contentType.matches("[\\w.+-]+/[\\w.+-]+")) {
        throw RequestException.badField(field + ".content_type", "not a MIME type");
      }
      String fileName = textField(field + ".file_name", entry.get("file_name"));
      if (fileName != null && CONTROL.matcher(fileName).find()) {
        throw RequestException.badField(
            field + ".file_name", "must not contain line breaks or other control characters");
      }
      String contentId = textField(field + ".content_id", entry.get("content_id"));
      if (contentId != null && !CONTENT_ID.matcher(contentId).matches()) {
        throw RequestException.badField(
            field + ".content_id", "must be printable ASCII without spaces or line breaks");
      }
      attachments.add(
          new Attachment(
              bytes,
              contentType == null ? "application/octet-stream" : contentType,
              fileName,
              contentId));
    }
    return attachments;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> substitutions(String field, JsonNode node)
      throws RequestException {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw RequestException.badField(field, "must be an object");
    }
    return (Map<String, Object>) frozen(MAPPER.convertValue(node, Map.class));
  }

  /**
   * Substitutions are shared by every recipient's rendering: read-only, so that a template cannot
   * change what the next recipient's rendering sees.
   */
  private static Object frozen(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> copy = new LinkedHashMap<>();
      map.forEach((key, item) -> copy.put(key, frozen(item)));
      return Collections.unmodifiableMap(copy);
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      list.forEach(item -> copy.add(frozen(item)));
      return Collections.unmodifiableList(copy);
    }
    return value;
  }

  private static String requiredText(JsonNode root, String name) throws RequestException {
    JsonNode node = root.get(name);
    if (node == null || node.isNull()) {
      throw RequestException.badField(name, "is required");
    }
    if (!node.isTextual()) {
      throw RequestException.badField(name, "must be a string");
    }
    return node.asText().trim();
  }

  private static String optionalText(JsonNode parent, String name) {
    JsonNode node = parent.get(name);
    return node != null && node.isTextual() ? node.asText() : null;
  }

  private static String textField(String field, JsonNode node) throws RequestException {
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw RequestException.badField(field, "must be a string");
    }
    return node.asText();
  }
}
