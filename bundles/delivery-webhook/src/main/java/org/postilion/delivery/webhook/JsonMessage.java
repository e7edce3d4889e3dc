package org.postilion.delivery.webhook;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.postilion.api.json.Json;

/**
 * A message as JSON for webhook receivers that do not want to parse MIME: the envelope, the header
 * fields (decoded), the first text/plain and text/html parts, and every other part as an attachment
 * in base64.
 */
final class JsonMessage {
  private JsonMessage() {}

  static byte[] of(String messageId, String sender, List<String> recipients, byte[] content)
      throws IOException {
    DefaultMessageBuilder builder = new DefaultMessageBuilder();
    builder.setMimeEntityConfig(MimeConfig.PERMISSIVE);
    builder.setDecodeMonitor(DecodeMonitor.SILENT);
    Message message = builder.parseMessage(new ByteArrayInputStream(content));
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, Object> envelope = new LinkedHashMap<>();
    envelope.put("id", messageId);
    envelope.put("sender", sender);
    envelope.put("recipients", recipients);
    root.put("envelope", envelope);
    List<Map<String, Object>> headers = new ArrayList<>();
    for (Field field : message.getHeader().getFields()) {
      Map<String, Object> header = new LinkedHashMap<>();
      header.put("name", field.getName());
      header.put("value", DecoderUtil.decodeEncodedWords(field.getBody(), DecodeMonitor.SILENT));
      headers.add(header);
    }
    root.put("headers", headers);
    List<Map<String, Object>> attachments = new ArrayList<>();
    walk(message, root, attachments);
    root.put("attachments", attachments);
    return Json.write(root).getBytes(StandardCharsets.UTF_8);
  }

  private static void walk(
      Entity entity, Map<String, Object> root, List<Map<String, Object>> attachments)
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
        && !root.containsKey("text")) {
      root.put("text", read(text, entity.getCharset()));
    } else if (!attached
        && body instanceof TextBody text
        && entity.getMimeType().equals("text/html")
        && !root.containsKey("html")) {
      root.put("html", read(text, entity.getCharset()));
    } else if (body instanceof SingleBody single) {
      Map<String, Object> attachment = new LinkedHashMap<>();
      attachments.add(attachment);
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
