package org.postilion.queue.hygiene;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.LocalHost;
import org.postilion.api.delivery.Response;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.ReceptionFilter;
import org.postilion.api.reception.Submission;

/**
 * The header fields every message needs before it leaves, as the large mailbox providers demand:
 * exactly one From, a Message-ID and a Date, and a Received field for the hop into this server.
 */
@Component(
    service = ReceptionFilter.class,
    immediate = true,
    configurationPid = "org.postilion.queue.hygiene",
    property = ReceptionFilter.ORDER + ":Integer=" + ReceptionFilter.HYGIENE)
@Designate(ocd = MessageHygiene.Config.class)
public class MessageHygiene implements ReceptionFilter {

  private static final byte[] CRLF = {'\r', '\n'};

  /** RFC 5322 date-time, always with English day and month names. */
  static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);

  @ObjectClassDefinition(
      name = "Postilion message hygiene",
      description = "Header fields added or checked at reception")
  public @interface Config {
    @AttributeDefinition(description = "Refuse a message without exactly one From field")
    boolean require__single__from() default true;

    @AttributeDefinition(description = "Add a Message-ID field when the message has none")
    boolean add__message__id() default true;

    @AttributeDefinition(description = "Add a Date field when the message has none")
    boolean add__date() default true;

    @AttributeDefinition(description = "Prepend a Received field for the hop into this server")
    boolean add__received() default true;

    @AttributeDefinition(
        description = "Host name in Received fields and Message-IDs; empty means this host's")
    String hostname() default "";
  }

  private volatile Config config;
  private volatile String hostname;
  private volatile ZoneId zone = ZoneId.systemDefault();
  private volatile FormattedSecond lastDate = new FormattedSecond(Long.MIN_VALUE, null, "");

  @Activate
  @Modified
  void configure(Config config) {
    this.config = config;
    this.hostname = config.hostname().isBlank() ? LocalHost.name() : config.hostname().trim();
  }

  /** For tests: the time zone of added Date and Received fields. */
  void zone(ZoneId zone) {
    this.zone = zone;
  }

  @Override
  public void filter(ReceivedMessage message) throws ReceptionException {
    Config settings = config;
    HeaderSection header = HeaderSection.parse(message.head());
    if (settings.require__single__from()) {
      int froms = header.named("From").size();
      if (froms != 1) {
        throw new ReceptionException(
            Response.of(
                550,
                "5.6.0",
                froms == 0
                    ? "message has no From header field (RFC 5322 3.6)"
                    : "message has " + froms + " From header fields, RFC 5322 allows one"));
      }
    }
    StringBuilder prepended = new StringBuilder();
    if (settings.add__received()) {
      prepended.append(received(message));
    }
    StringBuilder appended = new StringBuilder();
    if (settings.add__message__id() && !header.has("Message-ID")) {
      appended.append("Message-ID: <").append(message.id()).append('@').append(hostname);
      appended.append(">\r\n");
    }
    if (settings.add__date() && !header.has("Date")) {
      appended.append("Date: ").append(date(message.receivedAt())).append("\r\n");
    }
    if (prepended.length() > 0 || appended.length() > 0) {
      message.head(edited(message.head(), header.end(), prepended, appended));
    }
  }

  /** The Received field in the form Postfix writes, so that header parsers know it. */
  String received(ReceivedMessage message) {
    Submission submission = message.submission();
    StringBuilder field = new StringBuilder("Received: from ");
    field.append(submission.heloName() == null ? "unknown" : submission.heloName());
    field.append(" ([").append(submission.peerAddress()).append("])\r\n");
    if (submission.tlsProtocol() != null) {
      field.append("\t(using ").append(submission.tlsProtocol());
      if (submission.tlsCipher() != null) {
        field.append(" with cipher ").append(submission.tlsCipher());
      }
      field.append(")\r\n");
    }
    field.append("\tby ").append(hostname).append(" (Postilion) with ");
    field.append(submission.receptionProtocol()).append(" id ").append(message.id());
    if (submission.recipients().size() == 1) {
      field.append("\r\n\tfor <").append(submission.recipients().get(0)).append('>');
    }
    field.append("; ").append(date(message.receivedAt())).append("\r\n");
    return field.toString();
  }

  private String date(Instant instant) {
    // Formatting costs more than the rest of this filter; at volume most messages share a second.
    FormattedSecond last = lastDate;
    ZoneId current = zone;
    if (last.second() == instant.getEpochSecond() && current.equals(last.zone())) {
      return last.text();
    }
    String text = DATE.format(instant.atZone(current));
    lastDate = new FormattedSecond(instant.getEpochSecond(), current, text);
    return text;
  }

  private record FormattedSecond(long second, ZoneId zone, String text) {}

  /** New fields go at the top (trace fields) and at the end of the header section. */
  private static byte[] edited(
      byte[] content, int headerEnd, CharSequence prepended, CharSequence appended) {
    byte[] top = prepended.toString().getBytes(StandardCharsets.UTF_8);
    byte[] bottom = appended.toString().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(content.length + top.length + bottom.length + 2);
    out.writeBytes(top);
    out.write(content, 0, headerEnd);
    if (headerEnd > 0 && content[headerEnd - 1] != '\n') {
      out.writeBytes(CRLF);
    }
    out.writeBytes(bottom);
    if (headerEnd == content.length) {
      // No blank line yet (a message of header fields only): end the header section.
      out.writeBytes(CRLF);
    } else {
      out.write(content, headerEnd, content.length - headerEnd);
    }
    return out.toByteArray();
  }
}
