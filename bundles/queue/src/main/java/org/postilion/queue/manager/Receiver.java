package org.postilion.queue.manager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.Response;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.api.message.Addresses;
import org.postilion.api.message.TraceHeader;
import org.postilion.api.queue.QueueName;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes responsibility for arriving messages: names each recipient's scheduled queue ({@code
 * campaign:tenant@domain}) from the tenant and campaign headers, runs the reception filters
 * (hygiene, policy routes, signing), spools the message and schedules its recipients. Returns only
 * once the message is on disk. Runs on the ingress's thread, which may block for the disk.
 */
final class Receiver {
  private static final Logger LOG = LoggerFactory.getLogger(Receiver.class);

  /** The answer when the spool cannot take a message now: the sender keeps it and tries again. */
  static final Response CANNOT_QUEUE =
      Response.of(451, "4.3.0", "cannot queue the message now, try again later");

  private final Spool spool;
  private final Scheduler scheduler;
  private final QueueGauges gauges;
  private final Records records;
  private final Clock clock;
  private static final String TRACE_FIELD = TraceHeader.NAME.toLowerCase(java.util.Locale.ROOT);
  private volatile TraceHeader traces;
  private volatile LogCapture capture = LogCapture.NONE;
  private volatile QueueMetrics metrics;
  private volatile String tenantHeader = "x-tenant";
  private volatile String campaignHeader = "x-campaign";

  private final ReceptionFilters filters;
  private final MessageCache cache;
  private final Admission admission;

  /** Whether the server takes new mail now (disk and heap); throws the refusal when not. */
  interface Admission {
    void check() throws ReceptionException;
  }

  Receiver(
      Spool spool,
      ReceptionFilters filters,
      MessageCache cache,
      Scheduler scheduler,
      QueueGauges gauges,
      Records records,
      Clock clock,
      Admission admission) {
    this.admission = admission;
    this.spool = spool;
    this.filters = filters;
    this.cache = cache;
    this.scheduler = scheduler;
    this.gauges = gauges;
    this.records = records;
    this.clock = clock;
  }

  /** Makes the trace header of each message; {@code null}: messages go without one. */
  void metrics(QueueMetrics metrics) {
    this.metrics = metrics;
  }

  LogCapture capture() {
    return capture;
  }

  void capture(LogCapture capture) {
    this.capture = capture;
  }

  void traces(TraceHeader traces) {
    this.traces = traces;
  }

  /** Where the leading Received and Return-Path fields (with their folded lines) end. */
  static int afterTraceFields(byte[] head) {
    int at = 0;
    while (startsWithIgnoreCase(head, at, "Received:")
        || startsWithIgnoreCase(head, at, "Return-Path:")) {
      do {
        int end = at;
        while (end < head.length && head[end] != '\n') {
          end++;
        }
        at = Math.min(head.length, end + 1);
      } while (at < head.length && (head[at] == ' ' || head[at] == '\t'));
    }
    return at;
  }

  private static boolean startsWithIgnoreCase(byte[] head, int at, String name) {
    if (head.length - at < name.length()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.toLowerCase((char) head[at + i]) != Character.toLowerCase(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** The headers that name tenant and campaign, lower-case. */
  void headers(String tenant, String campaign) {
    this.tenantHeader = tenant;
    this.campaignHeader = campaign;
  }

  String receive(Submission submission) throws ReceptionException {
    if (submission.recipients().isEmpty()) {
      throw new ReceptionException(Response.of(554, "5.5.1", "no valid recipients"));
    }
    try {
      admission.check();
    } catch (ReceptionException e) {
      refused(
          new Refusal(
              e.reason() == null ? "no_room" : e.reason(),
              submission.sender(),
              submission.recipients(),
              e.response(),
              submission.peerAddress(),
              submission.heloName(),
              submission.receptionProtocol(),
              null,
              submission.sessionId()));
      throw e;
    }
    byte[] head = MessageHead.read(submission.content());
    // A trace header the client sent could tie reports to a message it does not belong to.
    HeaderEditor.Result edited =
        HeaderEditor.remove(head, Set.of(tenantHeader, campaignHeader, TRACE_FIELD));
    String tenant =
        queueNamePart(
            submission.tenant() != null ? submission.tenant() : edited.removed().get(tenantHeader));
    String campaign = queueNamePart(edited.removed().get(campaignHeader));
    Instant now = Instant.now(clock);
    String id = MessageIds.next(now.toEpochMilli());
    ReceivedMessage received =
        new ReceivedMessage(
            id,
            now,
            submission,
            edited.content(),
            MessageContent.from(submission.content(), head.length));
    received.tenant(tenant);
    received.campaign(campaign);
    try {
      runFilters(received);
    } catch (ReceptionException e) {
      MessageRecord refused = messageRecord(received, tenant, campaign);
      // The records name each recipient's own queue, not one a failing filter chose.
      received.queue(null);
      for (QueueEntry entry : entries(received, id, now)) {
        emitAtReception(EventType.REJECTION, refused, entry, e.response(), received);
      }
      throw e;
    }
    // Filters (policy routes) may have chosen another tenant, campaign or queue.
    tenant = queueNamePart(received.tenant());
    campaign = queueNamePart(received.campaign());
    List<QueueEntry> entries;
    try {
      entries = entries(received, id, now);
    } catch (IllegalArgumentException e) {
      LOG.error("A reception filter chose an invalid queue for {}", id, e);
      throw new ReceptionException(CANNOT_QUEUE, e);
    }
    TraceHeader trace = traces;
    if (trace != null) {
      boolean one = entries.size() == 1;
      byte[] field =
          trace.field(
              new TraceHeader.Trace(
                  id,
                  tenant,
                  campaign,
                  one ? entries.get(0).queue() : null,
                  one ? entries.get(0).recipient() : null));
      byte[] current = received.head();
      // Below the trace fields (Received, Return-Path), which stay on top as RFC 5321 wants.
      int at = afterTraceFields(current);
      byte[] traced = new byte[field.length + current.length];
      System.arraycopy(current, 0, traced, 0, at);
      System.arraycopy(field, 0, traced, at, field.length);
      System.arraycopy(current, at, traced, at + field.length, current.length - at);
      received.head(traced);
    }
    MessageRecord message = messageRecord(received, tenant, campaign);
    long saving = System.nanoTime();
    try {
      if (received.size() <= MessageCache.MAX_MESSAGE) {
        // Small, as most are: kept in memory too, for the first delivery attempt.
        byte[] bytes;
        try (InputStream content = received.open()) {
          bytes = content.readAllBytes();
        }
        spool.store(message, entries, new ByteArrayInputStream(bytes));
        cache.put(message, bytes);
      } else {
        try (InputStream content = received.open()) {
          spool.store(message, entries, content);
        }
      }
    } catch (IOException e) {
      LOG.error("Could not read a message from {} back", submission.peerAddress(), e);
      throw new ReceptionException(CANNOT_QUEUE, e);
    } catch (SpoolException e) {
      LOG.error("Could not spool a message from {}", submission.peerAddress(), e);
      throw new ReceptionException(CANNOT_QUEUE, e);
    }
    QueueMetrics counting = metrics;
    if (counting != null) {
      counting.saved(System.nanoTime() - saving);
    }
    for (QueueEntry entry : entries) {
      gauges.added(entry);
      emitAtReception(EventType.RECEPTION, message, entry, EventRecord.ACCEPTED, received);
    }
    groupIntoBatches(entries).forEach(scheduler::add);
    return id;
  }

  /** One entry per recipient, in the queue a filter chose or the one its domain names. */
  private static List<QueueEntry> entries(ReceivedMessage received, String id, Instant now) {
    String tenant = queueNamePart(received.tenant());
    String campaign = queueNamePart(received.campaign());
    QueueName chosen = received.queue() == null ? null : QueueName.parse(received.queue());
    if (chosen != null && !hasSafeParts(chosen)) {
      throw new IllegalArgumentException("unsafe tenant or campaign in queue " + chosen);
    }
    List<QueueEntry> entries = new ArrayList<>();
    List<String> recipients = received.submission().recipients();
    for (int i = 0; i < recipients.size(); i++) {
      String recipient = recipients.get(i);
      QueueName queue =
          chosen != null ? chosen : QueueName.of(campaign, tenant, Addresses.domainOf(recipient));
      entries.add(new QueueEntry(new EntryKey(id, i), recipient, queue.toString(), now, now, 0));
    }
    return entries;
  }

  void refused(Refusal refusal) {
    Map<String, String> meta =
        refusal.listener() == null
            ? Map.of("refusal", refusal.reason())
            : Map.of("refusal", refusal.reason(), "listener", refusal.listener());
    List<String> recipients =
        refusal.recipients().isEmpty() ? Collections.singletonList(null) : refusal.recipients();
    for (String recipient : recipients) {
      records.publish(records.refused(refusal, recipient, meta));
    }
  }

  private MessageRecord messageRecord(ReceivedMessage received, String tenant, String campaign) {
    LogCapture logged = capture;
    return new MessageRecord(
        received.id(),
        received.submission().sender(),
        received.receivedAt(),
        received.size(),
        tenant,
        campaign,
        received.submission().receptionProtocol(),
        logged.headers(received.head()),
        logged.meta(received.meta()));
  }

  /**
   * Hands the message to each reception filter in turn. A filter that fails unexpectedly refuses
   * the message temporarily: sending it on without, say, its signature would be worse.
   */
  private void runFilters(ReceivedMessage received) throws ReceptionException {
    for (ReceptionFilters.Ranked ranked : filters.inOrder()) {
      try {
        ranked.filter().filter(received);
      } catch (RuntimeException e) {
        LOG.error("Reception filter {} failed on message {}", ranked.filter(), received.id(), e);
        throw new ReceptionException(
            Response.of(451, "4.3.0", "cannot process the message now, try again later"), e);
      }
    }
  }

  /** A new message's entries, one batch per queue. */
  private static Collection<Batch> groupIntoBatches(List<QueueEntry> entries) {
    Map<String, List<QueueEntry>> groups = new LinkedHashMap<>();
    for (QueueEntry entry : entries) {
      groups.computeIfAbsent(entry.queue(), k -> new ArrayList<>()).add(entry);
    }
    return groups.values().stream().map(Batch::of).toList();
  }

  /**
   * Whether a queue name chosen elsewhere has tenant and campaign as {@link #queueNamePart} keeps
   * them.
   */
  static boolean hasSafeParts(QueueName queue) {
    return Objects.equals(queue.tenant(), queueNamePart(queue.tenant()))
        && Objects.equals(queue.campaign(), queueNamePart(queue.campaign()));
  }

  /**
   * Tenant and campaign become parts of a queue name and, through it, of file paths (maildir
   * templates) and metric labels: anything but letters, digits and {@code . _ + -} becomes {@code
   * _} and the length is capped, whoever chose the value (a header, a route, an API key).
   */
  static String queueNamePart(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String trimmed = value.trim();
    StringBuilder safe = new StringBuilder(Math.min(trimmed.length(), MAX_NAME_PART));
    for (int i = 0; i < trimmed.length() && safe.length() < MAX_NAME_PART; i++) {
      char c = trimmed.charAt(i);
      boolean plain =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '+'
              || c == '-';
      // A leading dot would make a hidden folder, or "..", of a maildir path part.
      boolean leadingDot = c == '.' && safe.chars().allMatch(d -> d == '_');
      safe.append(plain && !leadingDot ? c : '_');
    }
    return safe.toString();
  }

  private static final int MAX_NAME_PART = 64;

  /** A record of a message at reception: the client's TLS and the filters' notes. */
  private void emitAtReception(
      EventType type,
      MessageRecord message,
      QueueEntry entry,
      Response response,
      ReceivedMessage received) {
    records.publish(records.received(type, message, entry, response, received));
  }
}
