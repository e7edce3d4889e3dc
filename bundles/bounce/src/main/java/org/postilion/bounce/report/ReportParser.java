package org.postilion.bounce.report;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postilion.api.bounce.BounceClassifier;
import org.postilion.api.bounce.Report;
import org.postilion.api.bounce.ReportReader;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.message.TraceHeader;
import org.postilion.api.message.TraceHeader.Trace;

/**
 * Reads what comes back to a report domain, in this order: an ARF feedback report, an RFC 3464
 * delivery status report, a bounce in an MTA's or provider's own words, an auto-reply. Records
 * carry the original message's id, tenant, campaign and queue when the original's trace header is
 * quoted in the report and was made with this server's key.
 */
public final class ReportParser implements ReportReader {
  private static final int MAX_CONTENT = 2000;
  private static final int MAX_RECORDS = 100;

  /** The field the report inbox adds to a stored report: the client's name and address. */
  public static final String RECEIVED_FROM = "X-Postilion-Received-From";

  private static final Pattern SMTP_REPLY =
      Pattern.compile("([245]\\d{2})(?:[ -]|$)\\s*+(?:([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s++|$))?+");

  private final Supplier<BounceClassifier> classifier;
  private final TraceHeader traces;
  private final Clock clock;
  private final String nodeId;

  /**
   * @param classifier the classifier in force, or one answering {@code Uncategorized}
   * @param traces reads trace headers with this server's key; {@code null}: reports are not tied
   * @param nodeId this node's id, in every record
   */
  public ReportParser(
      Supplier<BounceClassifier> classifier, TraceHeader traces, Clock clock, String nodeId) {
    this.classifier = classifier;
    this.traces = traces;
    this.clock = clock;
    this.nodeId = nodeId;
  }

  @Override
  public Report read(InputStream message) throws IOException {
    Mail mail = Mail.read(message);
    Report report = read(mail);
    Mail forwarded = mail.forwarded();
    if (report.kind() == Report.Kind.UNRECOGNISED && forwarded != null) {
      // A report someone forwarded: read the enclosed message as the report.
      Report inner = read(forwarded);
      if (inner.kind() != Report.Kind.UNRECOGNISED) {
        String note =
            "read from a forwarded message" + (inner.note() == null ? "" : "; " + inner.note());
        return new Report(inner.kind(), inner.format(), inner.records(), note);
      }
    }
    return report;
  }

  private Report read(Mail mail) {
    Optional<Trace> trace = trace(mail);
    String feedback = mail.firstText("message/feedback-report");
    if (feedback != null) {
      return feedback(mail, feedback, trace);
    }
    String status = mail.firstText("message/delivery-status");
    if (status == null) {
      status = mail.firstText("message/global-delivery-status");
    }
    String text = mail.plainText();
    List<String> failedHeader = mail.top.all("X-Failed-Recipients");
    PlainBounces.Found plain =
        PlainBounces.read(mail.top.get("Subject"), mail.top.get("From"), text, failedHeader);
    if (status != null) {
      Report report = deliveryStatus(mail, DeliveryStatus.parse(status), plain, trace);
      if (!report.records().isEmpty() || plain == null || plain.failures().isEmpty()) {
        return report;
      }
    }
    if (plain != null && !plain.failures().isEmpty()) {
      if (plain.delayWarning()) {
        return new Report(
            Report.Kind.DELIVERY_STATUS,
            plain.format(),
            List.of(),
            "a delay warning: delivery is still being tried");
      }
      List<EventRecord> records = new ArrayList<>();
      for (PlainBounces.Failure failure : capped(plain.failures())) {
        Response response =
            Response.of(failure.code(), failure.enhancedCode(), clip(failure.content()));
        records.add(oob(mail, failure.address(), response, null, trace, plain.failures().size()));
      }
      return new Report(
          Report.Kind.DELIVERY_STATUS,
          plain.format(),
          records,
          joined(problems(mail), capNote(plain.failures().size())));
    }
    if (plain == null && AutoReplies.isAutoReply(mail.top)) {
      return autoReply(mail, trace);
    }
    List<String> why = new ArrayList<>(mail.problems);
    why.add(
        plain != null
            ? "looks like a bounce (" + plain.format() + ") but names no failed recipient"
            : "neither a delivery status report, a feedback report nor an auto-reply");
    return Report.unrecognised(String.join("; ", why));
  }

  private Report deliveryStatus(
      Mail mail, DeliveryStatus dsn, PlainBounces.Found plain, Optional<Trace> trace) {
    List<DeliveryStatus.Recipient> allFailed =
        dsn.recipients.stream().filter(DeliveryStatus.Recipient::failed).toList();
    List<DeliveryStatus.Recipient> failed = capped(allFailed);
    List<EventRecord> records = new ArrayList<>();
    for (DeliveryStatus.Recipient recipient : failed) {
      Response response = response(recipient, plain);
      records.add(oob(mail, recipient.address(), response, dsn.reportingMta, trace, failed.size()));
    }
    String note = joined(problems(mail), capNote(allFailed.size()));
    if (failed.isEmpty()) {
      List<String> actions =
          dsn.recipients.stream().map(DeliveryStatus.Recipient::action).distinct().toList();
      note = "no failed recipient in the report (actions: " + String.join(", ", actions) + ")";
    }
    return new Report(Report.Kind.DELIVERY_STATUS, "rfc3464", records, note);
  }

  /**
   * A recipient's reply as KumoMTA makes it from a report: the code of an SMTP diagnostic, else 550
   * (or 451 for a 4.x.x status); the status as the enhanced code. A report without a diagnostic may
   * quote the reply in its text.
   */
  private static Response response(DeliveryStatus.Recipient recipient, PlainBounces.Found plain) {
    String status = recipient.status();
    String diagnostic = recipient.diagnostic();
    if (diagnostic != null && diagnostic.length() > MAX_CONTENT) {
      diagnostic = diagnostic.substring(0, MAX_CONTENT);
    }
    if (diagnostic != null && !diagnostic.isBlank()) {
      Matcher reply = SMTP_REPLY.matcher(diagnostic.trim());
      if ("smtp".equals(recipient.diagnosticType()) && reply.lookingAt()) {
        String code = reply.group(1);
        // Continuation lines repeat the code and status ("550-5.1.1 ..."): the text is the rest.
        String text =
            diagnostic
                .trim()
                .substring(reply.end())
                .replaceAll("\\s++" + code + "[ -](?:[245]\\.\\d{1,3}\\.\\d{1,3}\\s++)?+", " ")
                .trim();
        String enhanced = status != null ? status : reply.group(2);
        return Response.of(Integer.parseInt(code), enhanced, clip(text));
      }
      return Response.of(defaultCode(status), status, clip(diagnostic.trim()));
    }
    if (plain != null && recipient.address() != null) {
      for (PlainBounces.Failure failure : plain.failures()) {
        if (failure.address().equalsIgnoreCase(recipient.address())) {
          return Response.of(
              failure.code(),
              status != null ? status : failure.enhancedCode(),
              clip(failure.content()));
        }
      }
    }
    return Response.of(defaultCode(status), status, "");
  }

  private static int defaultCode(String status) {
    return status != null && status.startsWith("4") ? 451 : 550;
  }

  private EventRecord oob(
      Mail mail,
      String address,
      Response response,
      String reportingMta,
      Optional<Trace> trace,
      int failures) {
    String recipient = address;
    String traced = trace.map(Trace::recipient).orElse(null);
    if (traced != null && failures == 1) {
      // The address the message was sent to, not the one a forwarder rewrote it into.
      recipient = traced;
    } else if (traced != null && (address == null || !traced.equalsIgnoreCase(address))) {
      // A trace header names its one recipient: a report that names others as well is not tied
      // by it (anyone who got the message could quote its header in a made-up report).
      trace = Optional.empty();
    }
    return base(EventType.OOB, mail, trace)
        .recipient(recipient == null ? "" : recipient)
        .response(response)
        .peerAddress(reportingMta == null ? receivedFrom(mail) : new PeerAddress(reportingMta, ""))
        .bounceClassification(classifier.get().classify(response))
        .build();
  }

  private Report feedback(Mail mail, String fields, Optional<Trace> trace) {
    List<String> problems = new ArrayList<>(mail.problems);
    String original = originalMessageText(mail);
    Map<String, Object> supplemental = trace.map(ReportParser::traceMap).orElse(null);
    Map<String, Object> report = FeedbackReport.parse(fields, original, supplemental, problems);
    String recipient = trace.map(Trace::recipient).orElse(null);
    if (recipient == null) {
      @SuppressWarnings("unchecked")
      List<String> rcpts = (List<String>) report.get("original_rcpto_to");
      recipient = rcpts.isEmpty() ? null : MailAddresses.bare(rcpts.get(0));
    }
    if (recipient == null) {
      for (Headers headers : originals(mail)) {
        recipient = MailAddresses.bare(headers.get("To"));
        if (recipient != null) {
          break;
        }
      }
    }
    EventRecord record =
        base(EventType.FEEDBACK, mail, trace)
            .recipient(recipient == null ? "" : recipient)
            .feedbackReport(report)
            .build();
    return new Report(
        Report.Kind.FEEDBACK,
        "arf",
        List.of(record),
        problems.isEmpty() ? null : String.join("; ", problems));
  }

  private Report autoReply(Mail mail, Optional<Trace> trace) {
    String subject = mail.top.get("Subject");
    String recipient =
        trace.map(Trace::recipient).orElseGet(() -> MailAddresses.bare(mail.top.get("From")));
    Response response =
        Response.of(250, "2.0.0", clip("auto-reply: " + (subject == null ? "" : subject)));
    EventRecord record =
        base(EventType.OOB, mail, trace)
            .recipient(recipient == null ? "" : recipient)
            .response(response)
            .bounceClassification("AutoReply")
            .build();
    return new Report(Report.Kind.AUTO_REPLY, "rfc3834", List.of(record), null);
  }

  private EventRecord.Builder base(EventType type, Mail mail, Optional<Trace> trace) {
    Instant now = Instant.now(clock);
    String delivered = mail.top.get("Delivered-To");
    String sender = MailAddresses.bare(delivered != null ? delivered : mail.top.get("To"));
    return EventRecord.builder(type)
        .nodeId(nodeId)
        .receptionProtocol("ESMTP")
        .peerAddress(receivedFrom(mail))
        .id(trace.map(Trace::messageId).orElse(""))
        .queue(trace.map(Trace::queue).orElse(""))
        .tenant(trace.map(Trace::tenant).orElse(null))
        .campaign(trace.map(Trace::campaign).orElse(null))
        .sender(sender == null ? "" : sender)
        .timestamp(now)
        .created(now);
  }

  /** Who sent the report, as the report inbox noted it when it stored the message. */
  private static PeerAddress receivedFrom(Mail mail) {
    String from = mail.top.get(RECEIVED_FROM);
    if (from == null) {
      return null;
    }
    int bracket = from.lastIndexOf('[');
    return bracket < 0
        ? new PeerAddress(from.trim(), "")
        : new PeerAddress(
            from.substring(0, bracket).trim(), from.substring(bracket + 1).replace("]", "").trim());
  }

  private static Map<String, Object> traceMap(Trace trace) {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("id", trace.messageId());
    map.put("tenant", trace.tenant());
    map.put("campaign", trace.campaign());
    map.put("queue", trace.queue());
    map.put("recipient", trace.recipient());
    return map;
  }

  /** A report names at most {@link #MAX_RECORDS} recipients; a real bounce names a few. */
  private static <T> List<T> capped(List<T> all) {
    return all.size() > MAX_RECORDS ? all.subList(0, MAX_RECORDS) : all;
  }

  private static String capNote(int found) {
    return found > MAX_RECORDS
        ? found + " failed recipients named; records for the first " + MAX_RECORDS + " only"
        : null;
  }

  private static String joined(String a, String b) {
    return a == null ? b : b == null ? a : a + "; " + b;
  }

  private static String problems(Mail mail) {
    return mail.problems.isEmpty() ? null : String.join("; ", mail.problems);
  }

  private static String clip(String text) {
    return text.length() > MAX_CONTENT ? text.substring(0, MAX_CONTENT) : text;
  }

  /** The header blocks of the original message: enclosed, or sent as text/rfc822-headers. */
  private static List<Headers> originals(Mail mail) {
    List<Headers> all = new ArrayList<>(mail.originals());
    for (Mail.Part part : mail.parts) {
      if (part.mimeType().equals("text/rfc822-headers") && part.text() != null) {
        List<Headers> blocks = Headers.blocks(part.text());
        if (!blocks.isEmpty()) {
          all.add(blocks.get(0));
        }
      }
    }
    return all;
  }

  /** The original's header as text, for {@code original_message}, when the report has it. */
  private static String originalMessageText(Mail mail) {
    for (Mail.Part part : mail.parts) {
      if (part.mimeType().equals("text/rfc822-headers") && part.text() != null) {
        return part.text().replace("\r\n", "\n");
      }
    }
    if (!mail.enclosed.isEmpty()) {
      return mail.enclosed.get(0).headers().text();
    }
    return null;
  }

  private Optional<Trace> trace(Mail mail) {
    if (traces == null) {
      return Optional.empty();
    }
    for (Headers headers : originals(mail)) {
      for (String value : headers.all(TraceHeader.NAME)) {
        Optional<Trace> trace = traces.read(value);
        if (trace.isPresent()) {
          return trace;
        }
      }
    }
    // Bounces that quote the original inline, in their text (qmail, OpenSMTPD, Yahoo).
    for (Mail.Part part : mail.parts) {
      if (part.text() != null) {
        Optional<Trace> trace = inlineTrace(part.text());
        if (trace.isPresent()) {
          return trace;
        }
      }
    }
    return Optional.empty();
  }

  private Optional<Trace> inlineTrace(String text) {
    String name = TraceHeader.NAME + ":";
    int from = 0;
    for (int tries = 0; tries < 5; tries++) {
      int at = indexOfIgnoreCase(text, name, from);
      if (at < 0) {
        return Optional.empty();
      }
      StringBuilder value = new StringBuilder();
      int i = at + name.length();
      while (i < text.length() && value.length() < 4096) {
        char c = text.charAt(i);
        if (c == '\r' || c == '\n') {
          int next =
              c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n' ? i + 2 : i + 1;
          if (next < text.length() && (text.charAt(next) == ' ' || text.charAt(next) == '\t')) {
            i = next;
            continue;
          }
          break;
        }
        value.append(c);
        i++;
      }
      Optional<Trace> trace = traces.read(value.toString());
      if (trace.isPresent()) {
        return trace;
      }
      from = i;
    }
    return Optional.empty();
  }

  private static int indexOfIgnoreCase(String text, String what, int from) {
    for (int i = from; i <= text.length() - what.length(); i++) {
      if (text.regionMatches(true, i, what, 0, what.length())) {
        return i;
      }
    }
    return -1;
  }
}
