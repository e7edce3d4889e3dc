package org.postilion.delivery.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.codec.DecoderUtil;
import org.apache.james.mime4j.dom.Body;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;

/**
 * A message as JSON for webhook receivers that do not want to parse MIME: the envelope, the header
 * fields (decoded), the first text/plain and text/html parts, and every other part as an attachment
 * in base64.
 */
final class JsonMessage {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonMessage() {}

  static byte[] of(String messageId, String sender, List<String> recipients, byte[] content)
      throws IOException {
    DefaultMessageBuilder builder = new DefaultMessageBuilder();
    builder.setMimeEntityConfig(MimeConfig.PERMISSIVE);
    builder.setDecodeMonitor(DecodeMonitor.SILENT);
    Message message = builder.parseMessage(new ByteArrayInputStream(content));
    ObjectNode root = JSON.createObjectNode();
    ObjectNode envelope = root.putObject("envelope");
    envelope.put("id", messageId);
    envelope.put("sender", sender);
    recipients.forEach(envelope.putArray("recipients")::add);
    ArrayNode headers = root.putArray("headers");
    for (Field field : message.getHeader().getFields()) {
      headers
          .addObject()
          .put("name", field.getName())
          .put("value", DecoderUtil.decodeEncodedWords(field.getBody(), DecodeMonitor.SILENT));
    }
    ArrayNode attachments = JSON.createArrayNode();
    walk(message, root, attachments);
    root.set("attachments", attachments);
    return JSON.writeValueAsBytes(root);
  }

  private static void walk(Entity entity, ObjectNode root, ArrayNode attachments)
      throws IOException {
    Body body = entity.getBody();
    if (body instanceof Multipart multipart) {
      for (Entity part : multipart.getBodyParts()) {
        walk(part, root, attachments);
      }
      return;
    }
    boolean attached = "attachment".equalsIgnoreCase(entity.getDispositionType());
    if (!attached
        && body instanceof TextBody text
        && entity.getMimeType().equals("text/plain")
        && !root.has("text")) {
      root.put("text", read(text, entity.getCharset()));
    } else if (!attached
        && body instanceof TextBody text
        && entity.getMimeType().equals("text/html")
        && !root.has("html")) {
      root.put("html", read(text, entity.getCharset()));
    } else if (body instanceof SingleBody single) {
      ObjectNode attachment = attachments.addObject();
      attachment.put("content_type", entity.getMimeType());
      attachment.put("file_name", entity.getFilename());
      Field contentId = entity.getHeader().getField("Content-ID");
      attachment.put("content_id", contentId == null ? null : contentId.getBody().trim());
      try (InputStream in = single.getInputStream()) {
        attachment.put("data", Base64.getEncoder().encodeToString(in.readAllBytes()));
      }
    }
  }

  private static String read(TextBody text, String charset) throws IOException {
    Charset decoding;
    try {
      decoding = charset == null ? StandardCharsets.US_ASCII : Charset.forName(charset);
    } catch (IllegalArgumentException e) {
      decoding = StandardCharsets.UTF_8;
    }
    try (InputStream in = text.getInputStream()) {
      return new String(in.readAllBytes(), decoding);
    }
  }
}
