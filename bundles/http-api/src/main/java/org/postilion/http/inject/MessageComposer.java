package org.postilion.http.inject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.james.mime4j.codec.EncoderUtil;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.address.AddressList;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.field.Fields;
import org.apache.james.mime4j.field.address.DefaultAddressParser;
import org.apache.james.mime4j.field.address.ParseException;
import org.apache.james.mime4j.message.BodyPartBuilder;
import org.apache.james.mime4j.message.DefaultMessageWriter;
import org.apache.james.mime4j.message.MultipartBuilder;
import org.apache.james.mime4j.stream.NameValuePair;
import org.apache.james.mime4j.stream.RawField;
import org.postilion.http.inject.InjectionRequest.Attachment;
import org.postilion.http.inject.InjectionRequest.Built;
import org.postilion.http.inject.InjectionRequest.Raw;
import org.postilion.http.inject.InjectionRequest.Recipient;
import org.postilion.http.inject.Templates.Template;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.web.RequestException;

/**
 * Turns an injection request into RFC 5322 bytes per recipient: renders the templates with the
 * global substitutions overlaid by the recipient's, then either takes the raw text or assembles
 * MIME with mime4j (multipart/mixed around related around alternative, as far as the parts need).
 */
final class MessageComposer {
  private static final Pattern LINE_BREAK = Pattern.compile("\r\n|\r|\n");
  private static final Set<String> ADDRESS_HEADERS =
      Set.of("to", "cc", "bcc", "reply-to", "from", "sender");

  private final Templates templates;

  MessageComposer(Templates templates) {
    this.templates = templates;
  }

  /** The request's templates, compiled once; parse errors fail the whole request. */
  Composition compile(InjectionRequest request) throws RequestException {
    if (request.content() instanceof Raw raw) {
      Template text = templates.compile("content", raw.text(), false);
      return new Composition(request, text, null, Map.of(), null, null, null);
    }
    Built built = (Built) request.content();
    Map<String, Template> headers = new LinkedHashMap<>();
    for (Map.Entry<String, String> header : built.headers().entrySet()) {
      headers.put(
          header.getKey(),
          templates.compile("content.headers." + header.getKey(), header.getValue(), false));
    }
    return new Composition(
        request,
        null,
        templates.compile("content.subject", built.subject(), false),
        headers,
        templates.compile("content.text_body", built.textBody(), false),
        templates.compile("content.html_body", built.htmlBody(), true),
        built);
  }

  /** A request ready to be rendered for each of its recipients. */
  static final class Composition {
    private final InjectionRequest request;
    private final Template raw;
    private final Template subject;
    private final Map<String, Template> headers;
    private final Template text;
    private final Template html;
    private final Built built;

    private Composition(
        InjectionRequest request,
        Template raw,
        Template subject,
        Map<String, Template> headers,
        Template text,
        Template html,
        Built built) {
      this.request = request;
      this.raw = raw;
      this.subject = subject;
      this.headers = headers;
      this.text = text;
      this.html = html;
      this.built = built;
    }

    /**
     * Whether every recipient gets the same bytes, so one spooled message can carry them all: raw
     * content and no recipient has substitutions of its own.
     */
    boolean sameForEveryone() {
      return raw != null
          && request.recipients().stream().allMatch(r -> r.substitutions().isEmpty());
    }

    /**
     * The message for {@code recipient}; a template error names the field.
     *
     * @param budget what the request's templates may still spend
     */
    byte[] render(Recipient recipient, RenderBudget budget) throws RequestException {
      Map<String, Object> variables = new HashMap<>(request.substitutions());
      variables.putAll(recipient.substitutions());
      if (raw != null) {
        return crlf(raw.render(variables, budget)).getBytes(StandardCharsets.UTF_8);
      }
      try {
        return build(recipient, variables, budget);
      } catch (IOException e) {
        throw new IllegalStateException("writing MIME to memory does not fail", e);
      }
    }

    private byte[] build(Recipient recipient, Map<String, Object> variables, RenderBudget budget)
        throws RequestException, IOException {
      Message.Builder message = Message.Builder.of();
      message.setField(Fields.version("1.0"));
      message.setDate(new Date());
      InjectionRequest.Mailbox from = built.from();
      message.setFrom(
          from == null
              ? mailbox(request.envelopeSender(), null)
              : mailbox(from.email(), from.name()));
      if (built.replyTo() != null) {
        message.setReplyTo(mailbox(built.replyTo().email(), built.replyTo().name()));
      }
      if (!hasHeader("to")) {
        message.setTo(mailbox(recipient.email(), recipient.name()));
      }
      if (subject != null) {
        message.setSubject(subject.render(variables, budget));
      }
      for (Map.Entry<String, Template> header : headers.entrySet()) {
        String name = header.getKey();
        String value = header.getValue().render(variables, budget);
        message.addField(field(name, value));
      }
      body(message, variables, budget);
      return DefaultMessageWriter.asBytes(message.build());
    }

    private boolean hasHeader(String lowerCaseName) {
      return headers.keySet().stream()
          .anyMatch(name -> name.toLowerCase(Locale.ROOT).equals(lowerCaseName));
    }

    private void body(Message.Builder message, Map<String, Object> variables, RenderBudget budget)
        throws RequestException, IOException {
      List<BodyPartBuilder> alternatives = new ArrayList<>();
      if (text != null) {
        alternatives.add(textPart("plain", text.render(variables, budget)));
      }
      if (html != null) {
        alternatives.add(textPart("html", html.render(variables, budget)));
      }
      List<BodyPartBuilder> inline = new ArrayList<>();
      List<BodyPartBuilder> attached = new ArrayList<>();
      for (Attachment attachment : built.attachments()) {
        (attachment.contentId() != null ? inline : attached).add(attachmentPart(attachment));
      }
      BodyPartBuilder content = alternatives.size() == 1 ? alternatives.get(0) : null;
      if (alternatives.size() > 1) {
        content = multipart("alternative", alternatives);
      }
      if (!inline.isEmpty()) {
        List<BodyPartBuilder> related = new ArrayList<>();
        if (content != null) {
          related.add(content);
        }
        related.addAll(inline);
        content = multipart("related", related);
      }
      if (!attached.isEmpty()) {
        List<BodyPartBuilder> mixed = new ArrayList<>();
        if (content != null) {
          mixed.add(content);
        }
        mixed.addAll(attached);
        content = multipart("mixed", mixed);
      }
      // The outermost part's content fields become the message's own.
      BodyPartBuilder outer = content;
      message.setBody(outer.getBody());
      outer.getFields().forEach(message::setField);
    }
  }

  private static BodyPartBuilder textPart(String subtype, String text) throws IOException {
    String body = crlf(text);
    return BodyPartBuilder.create()
        .setBody(body, subtype, StandardCharsets.UTF_8)
        .setContentTransferEncoding(needsEncoding(body) ? "quoted-printable" : "7bit");
  }

  private static BodyPartBuilder attachmentPart(Attachment attachment) throws IOException {
    BodyPartBuilder part =
        BodyPartBuilder.create()
            .setBody(attachment.data(), attachment.contentType())
            .setContentTransferEncoding("base64");
    String disposition = attachment.contentId() != null ? "inline" : "attachment";
    if (attachment.fileName() != null) {
      part.setField(
          Fields.contentDisposition(
              disposition,
              List.of(
                  new NameValuePair(
                      "filename",
                      EncoderUtil.encodeIfNecessary(
                          attachment.fileName(), EncoderUtil.Usage.WORD_ENTITY, 0)))));
    } else {
      part.setContentDisposition(disposition);
    }
    if (attachment.contentId() != null) {
      String id = attachment.contentId().replaceAll("^<|>$", "");
      part.setField(new RawField("Content-ID", "<" + id + ">"));
    }
    return part;
  }

  private static BodyPartBuilder multipart(String subtype, List<BodyPartBuilder> parts) {
    MultipartBuilder multipart = MultipartBuilder.create(subtype);
    parts.forEach(multipart::addBodyPart);
    return BodyPartBuilder.create().setBody(multipart.build());
  }

  /** 7bit is enough for short ASCII lines; anything else is quoted-printable. */
  private static boolean needsEncoding(String body) {
    for (String line : body.split("\r\n", -1)) {
      if (line.length() > 76 || !StandardCharsets.US_ASCII.newEncoder().canEncode(line)) {
        return true;
      }
    }
    return false;
  }

  private static Mailbox mailbox(String email, String name) {
    int at = email.lastIndexOf('@');
    return new Mailbox(
        name == null || name.isBlank() ? null : name,
        email.substring(0, at),
        email.substring(at + 1));
  }

  private static org.apache.james.mime4j.stream.Field field(String name, String value)
      throws RequestException {
    if (LINE_BREAK.matcher(value).find()) {
      throw new RequestException(422, "content.headers." + name, "renders to more than one line");
    }
    if (ADDRESS_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
      try {
        AddressList addresses = DefaultAddressParser.DEFAULT.parseAddressList(value);
        return Fields.addressList(name, addresses);
      } catch (ParseException e) {
        throw new RequestException(
            422, "content.headers." + name, "not a valid address list: " + e.getMessage());
      }
    }
    return new RawField(
        name,
        EncoderUtil.encodeIfNecessary(value, EncoderUtil.Usage.TEXT_TOKEN, name.length() + 2));
  }

  private static String crlf(String text) {
    return LINE_BREAK.matcher(text).replaceAll("\r\n");
  }
}
