package org.postilion.api.trace;

import java.time.Instant;
import java.util.Set;

/**
 * One line of a live SMTP transcript, as KumoMTA's {@code kcli trace-smtp-server} and {@code
 * trace-smtp-client} show them.
 *
 * @param side {@link Side#SERVER} for a session of our listeners, {@link Side#CLIENT} for one of
 *     our deliveries
 * @param session the connection, {@code client->server} as addresses and ports
 * @param kind what happened
 * @param text the line read or written (CRLF removed, cut), or what the event says
 * @param context what filters match on
 */
public record TraceEvent(
    Instant time, Side side, String session, Kind kind, String text, Context context) {

  public enum Side {
    SERVER,
    CLIENT
  }

  public enum Kind {
    CONNECTED,
    /** Sent by the client of the session. */
    FROM_CLIENT,
    /** Sent by the server of the session. */
    FROM_SERVER,
    /** Message data, summarized. */
    DATA,
    CLOSED
  }

  /**
   * What a session is: for a listener's session, the listener and the client's address; for a
   * delivery, its ready queue's site and egress source, the host it reached and the recipient
   * domains of the transaction under way (empty between transactions).
   */
  public record Context(
      String listener,
      String clientAddress,
      String site,
      String source,
      String host,
      Set<String> domains) {
    public static Context server(String listener, String clientAddress) {
      return new Context(listener, clientAddress, null, null, null, Set.of());
    }

    public static Context client(String site, String source, String host, Set<String> domains) {
      return new Context(null, null, site, source, host, domains);
    }
  }

  /**
   * The line as the commands print it, {@code [client->server] -> text}: {@code ->} for what the
   * session's client sent (us, when we deliver), {@code <-} for the server's replies.
   */
  public String line() {
    String arrow =
        switch (kind) {
          case CONNECTED, CLOSED -> "===";
          case FROM_CLIENT, DATA -> " ->";
          case FROM_SERVER -> " <-";
        };
    return "[" + session + "] " + arrow + " " + text;
  }
}
