package org.postilion.shell;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.function.Predicate;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.net.Cidr;
import org.postilion.api.trace.TraceEvent;

/**
 * KumoMTA's {@code kcli trace-smtp-server}: the live transcripts of the sessions of our SMTP
 * listeners, {@code [client->listener] -> command} and {@code <- reply}; message data is shown as
 * its size and credentials are masked.
 */
@Service
@Command(
    scope = "mta",
    name = "trace-smtp-server",
    description = "Live transcripts of incoming SMTP sessions, until --count, --duration or Ctrl-C")
public class TraceSmtpServerCommand extends TraceCommand {

  @Option(
      name = "--client",
      description = "Only clients in this address range: 192.0.2.7, 192.0.2.0/24, 2001:db8::/32")
  String client;

  @Option(name = "--listener", description = "Only sessions of this listener (its name)")
  String listener;

  @Override
  TraceEvent.Side side() {
    return TraceEvent.Side.SERVER;
  }

  @Override
  Predicate<TraceEvent> filter() {
    Predicate<TraceEvent> filter = event -> true;
    if (client != null) {
      Cidr range;
      try {
        range = Cidr.parse(client.trim());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("--client: " + e.getMessage(), e);
      }
      filter = filter.and(event -> inRange(range, event.context().clientAddress()));
    }
    if (listener != null) {
      String name = listener.trim();
      filter = filter.and(event -> name.equals(event.context().listener()));
    }
    return filter;
  }

  private static boolean inRange(Cidr range, String address) {
    if (address == null || address.isEmpty()) {
      return false;
    }
    try {
      // A literal address: no name lookup happens here.
      return range.contains(InetAddress.getByName(address));
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
