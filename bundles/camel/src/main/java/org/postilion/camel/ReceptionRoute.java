package org.postilion.camel;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.Route;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.Response;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.ReceptionFilter;
import org.postilion.api.reception.Submission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code direct:reception} hook: when a route consumes it, every message passes through it
 * after the client sent it and before it is spooled. The envelope is in headers, the message is the
 * body (bytes; the header section alone for a message over {@link #MAX_WHOLE_BODY}); what the route
 * leaves in the headers {@code tenant}, {@code campaign}, {@code queue}, {@code meta.<key>}, {@code
 * append_header.<Name>}, {@code remove_header} and {@code reject} ("550 5.7.1 text") is applied. An
 * exception whose message starts with a reply code is that reply; any other exception is a 451, so
 * a broken route delays mail rather than losing it.
 */
@Component(property = ReceptionFilter.ORDER + ":Integer=" + ReceptionFilter.POLICY)
public class ReceptionRoute implements ReceptionFilter {
  private static final Logger LOG = LoggerFactory.getLogger(ReceptionRoute.class);
  static final String ENDPOINT = "direct://reception";
  private static final Pattern REPLY =
      Pattern.compile(
          "^([45]\\d\\d)(?:\\s+([245]\\.\\d{1,3}\\.\\d{1,3}))?\\s*(.*)$", Pattern.DOTALL);

  /** The runtime's shared template, which also names the context. */
  @Reference private ProducerTemplate producer;

  static boolean consumed(CamelContext camel, String uri) {
    for (Route route : camel.getRoutes()) {
      if (uri.equals(route.getEndpoint().getEndpointUri())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Messages up to this size reach the route whole; larger ones as their header section alone, so
   * that a route never pulls a large message into the heap.
   */
  static final long MAX_WHOLE_BODY = 1024 * 1024;

  @Override
  public void filter(ReceivedMessage message) throws ReceptionException {
    if (!consumed(producer.getCamelContext(), ENDPOINT)) {
      return;
    }
    boolean whole = message.size() <= MAX_WHOLE_BODY;
    byte[] given;
    try {
      given = whole ? readAll(message) : message.head();
    } catch (IOException e) {
      LOG.error("Cannot read message {} for the reception route", message.id(), e);
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot process the message now, try again later"), e);
    }
    Submission submission = message.submission();
    Exchange exchange =
        producer.send(
            "direct:reception",
            ExchangePattern.InOut,
            in -> {
              var m = in.getMessage();
              m.setBody(given);
              m.setHeader("message_size", message.size());
              m.setHeader("body_truncated", !whole);
              m.setHeader("message_id", message.id());
              m.setHeader("sender", submission.sender());
              m.setHeader("recipients", submission.recipients());
              m.setHeader("tenant", message.tenant());
              m.setHeader("campaign", message.campaign());
              m.setHeader("authenticated_tenant", submission.tenant());
              m.setHeader("reception_protocol", submission.receptionProtocol());
              m.setHeader("peer_address", submission.peerAddress());
              m.setHeader("helo_name", submission.heloName());
            });
    if (exchange.getException() != null) {
      throw refusal(exchange.getException());
    }
    var out = exchange.getMessage();
    Object reject = out.getHeader("reject");
    if (reject != null && !reject.toString().isBlank()) {
      throw new ReceptionException(reply(reject.toString(), 550, "5.7.1"));
    }
    message.tenant(text(out.getHeader("tenant")));
    message.campaign(text(out.getHeader("campaign")));
    String queue = text(out.getHeader("queue"));
    if (queue != null) {
      message.queue(queue);
    }
    Object body = out.getBody();
    byte[] content = body == given ? given : out.getBody(byte[].class);
    Set<String> remove = new HashSet<>();
    StringBuilder append = new StringBuilder();
    for (Map.Entry<String, Object> header : out.getHeaders().entrySet()) {
      String name = header.getKey();
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.startsWith("meta.")) {
        message.putMeta(name.substring(5), String.valueOf(header.getValue()));
      } else if (lower.startsWith("append_header.")) {
        append.append(name.substring(14)).append(": ").append(header.getValue()).append("\r\n");
      } else if (lower.equals("remove_header")) {
        for (String field : String.valueOf(header.getValue()).split(",")) {
          remove.add(field.trim().toLowerCase(Locale.ROOT));
        }
      }
    }
    if (content == null) {
      return;
    }
    if (content != given && whole) {
      // The route wrote a new message: its header section and body replace the old.
      int bodyStart = HeaderSection.parse(content).bodyStart();
      message.head(Arrays.copyOf(content, bodyStart));
      message.body(MessageContent.of(Arrays.copyOfRange(content, bodyStart, content.length)));
    } else if (content != given) {
      message.head(content);
    }
    message.head(HeaderSection.parse(message.head()).edit(remove, append.toString()));
  }

  private static byte[] readAll(ReceivedMessage message) throws IOException {
    try (InputStream in = message.open()) {
      return in.readAllBytes();
    }
  }

  private static String text(Object value) {
    return value == null || value.toString().isBlank() ? null : value.toString().trim();
  }

  private static ReceptionException refusal(Exception e) {
    String text = e.getMessage() == null ? "" : e.getMessage().trim();
    if (REPLY.matcher(text).matches()) {
      return new ReceptionException(reply(text, 550, "5.7.1"), e);
    }
    LOG.error("The reception route failed; the client is told to try again later", e);
    return new ReceptionException(
        Response.of(451, "4.3.0", "policy is not available, try again later"), e);
  }

  /** "550 5.7.1 text", "550 text" or plain text (then 550 5.7.1). */
  static Response reply(String text, int defaultCode, String defaultEnhanced) {
    Matcher m = REPLY.matcher(text.trim());
    if (!m.matches()) {
      return Response.of(defaultCode, defaultEnhanced, text.trim());
    }
    int code = Integer.parseInt(m.group(1));
    String enhanced = m.group(2) != null ? m.group(2) : (code / 100) + ".7.1";
    String content = m.group(3).isBlank() ? "refused by policy" : m.group(3);
    return Response.of(code, enhanced, content);
  }
}
