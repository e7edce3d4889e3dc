package org.postilion.delivery.smtp;

import java.net.Socket;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.postilion.api.delivery.wire.Reply;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.api.trace.TraceEvent;
import org.postilion.api.trace.TraceEvent.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transcript of one outgoing connection for {@code mta:trace-smtp-client}, published only while
 * someone watches. Knows the connection's ready queue (site and egress source), the host reached
 * and the recipient domains of the transaction under way, for the watchers' filters.
 */
final class ClientTrace {
  static final ClientTrace NONE = new ClientTrace(() -> null, "", "", "");

  private static final Logger LOG = LoggerFactory.getLogger(ClientTrace.class);
  private static final int MAX_LINE = 200;

  private final Supplier<SmtpTrace> trace;
  private final String site;
  private final String source;
  private final String host;
  private String session = "?";
  private volatile Set<String> domains = Set.of();

  ClientTrace(Supplier<SmtpTrace> trace, String site, String source, String host) {
    this.trace = trace;
    this.site = site;
    this.source = source;
    this.host = host;
  }

  private SmtpTrace watching() {
    SmtpTrace current = trace.get();
    return current != null && current.watching(TraceEvent.Side.CLIENT) ? current : null;
  }

  private void publish(SmtpTrace to, Kind kind, String text) {
    try {
      publishOrFail(to, kind, text);
    } catch (RuntimeException e) {
      // A watcher's failure is no reason to fail a delivery.
      LOG.warn("Tracing a session to {} failed", host, e);
    }
  }

  private void publishOrFail(SmtpTrace to, Kind kind, String text) {
    to.publish(
        new TraceEvent(
            Instant.now(),
            TraceEvent.Side.CLIENT,
            session,
            kind,
            text,
            TraceEvent.Context.client(site, source, host, domains)));
  }

  void connected(Socket socket) {
    session =
        socket.getLocalAddress().getHostAddress()
            + ":"
            + socket.getLocalPort()
            + "->"
            + socket.getInetAddress().getHostAddress()
            + ":"
            + socket.getPort();
    SmtpTrace to = watching();
    if (to != null) {
      publish(to, Kind.CONNECTED, "Connected " + Instant.now() + " to " + host + " for " + site);
    }
  }

  /** A message's transaction begins (its recipients' domains) or ends ({@code null}). */
  void transaction(List<String> recipients) {
    domains =
        recipients == null
            ? Set.of()
            : Set.copyOf(
                recipients.stream()
                    .map(r -> r.substring(r.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT))
                    .toList());
  }

  void sent(String line) {
    SmtpTrace to = watching();
    if (to != null) {
      String shown = line;
      if (line.toUpperCase(Locale.ROOT).startsWith("AUTH ")) {
        String[] words = line.trim().split("\\s+");
        shown = words.length > 2 ? words[0] + " " + words[1] + " ****" : line;
      }
      publish(to, Kind.FROM_CLIENT, cut(shown));
    }
  }

  void received(Reply reply) {
    SmtpTrace to = watching();
    if (to != null) {
      List<String> lines = reply.lines();
      for (int i = 0; i < lines.size(); i++) {
        String separator = i + 1 < lines.size() ? "-" : " ";
        publish(to, Kind.FROM_SERVER, cut(reply.code() + separator + lines.get(i)));
      }
    }
  }

  void data(long bytes) {
    SmtpTrace to = watching();
    if (to != null) {
      publish(to, Kind.DATA, "(" + bytes + " bytes of message data)");
    }
  }

  void closed() {
    SmtpTrace to = watching();
    if (to != null) {
      publish(to, Kind.CLOSED, "Closed " + Instant.now());
    }
  }

  private static String cut(String line) {
    return line.length() <= MAX_LINE ? line : line.substring(0, MAX_LINE) + "...";
  }
}
