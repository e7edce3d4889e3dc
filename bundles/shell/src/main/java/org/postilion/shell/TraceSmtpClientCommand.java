package org.postilion.shell;

import java.util.function.Predicate;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.trace.TraceEvent;

/**
 * KumoMTA's {@code kcli trace-smtp-client}: the live transcripts of our SMTP deliveries, {@code
 * [local->remote] -> command} and {@code <- reply}. With {@code --domain}, the transactions of
 * messages to that domain (a connection carries mail for many domains of one site).
 */
@Service
@Command(
    scope = "mta",
    name = "trace-smtp-client",
    description = "Live transcripts of outgoing SMTP sessions, until --count, --duration or Ctrl-C")
public class TraceSmtpClientCommand extends TraceCommand {

  @Option(name = "--domain", description = "Only transactions with a recipient in this domain")
  String domain;

  @Option(name = "--site", description = "Only sessions of sites matching this, * for any text")
  String site;

  @Option(name = "--source", description = "Only sessions from this egress source")
  String source;

  @Option(name = "--mx", description = "Only sessions with hosts matching this, * for any text")
  String mx;

  @Override
  TraceEvent.Side side() {
    return TraceEvent.Side.CLIENT;
  }

  @Override
  Predicate<TraceEvent> filter() {
    Predicate<TraceEvent> filter = event -> true;
    if (domain != null) {
      String wanted = lower(domain);
      filter = filter.and(event -> event.context().domains().contains(wanted));
    }
    if (site != null) {
      Predicate<String> matches = glob(site.trim());
      filter = filter.and(event -> matches.test(event.context().site()));
    }
    if (source != null) {
      String wanted = source.trim();
      filter = filter.and(event -> wanted.equals(event.context().source()));
    }
    if (mx != null) {
      Predicate<String> matches = glob(mx.trim());
      filter = filter.and(event -> matches.test(event.context().host()));
    }
    return filter;
  }
}
