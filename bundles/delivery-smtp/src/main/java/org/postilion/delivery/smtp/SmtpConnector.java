package org.postilion.delivery.smtp;

import java.net.InetAddress;
import java.util.function.Supplier;
import org.postilion.api.delivery.Response;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.trace.SmtpTrace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a connection to a site: every host of the route in order, every address of each, until one
 * takes the connection. Never connects back to one of this server's own listeners.
 */
final class SmtpConnector {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpConnector.class);

  private final LoopGuard loopGuard;
  private final TlsContexts tls;
  private final SmtpConnection.Timeouts timeouts;

  private final Supplier<SmtpTrace> trace;

  SmtpConnector(
      LoopGuard loopGuard,
      TlsContexts tls,
      SmtpConnection.Timeouts timeouts,
      Supplier<SmtpTrace> trace) {
    this.trace = trace;
    this.loopGuard = loopGuard;
    this.tls = tls;
    this.timeouts = timeouts;
  }

  SmtpConnection connect(SmtpDestination destination, EgressSource source) throws DeliveryFailure {
    return connect(destination, source, "");
  }

  /**
   * @param site the ready queue's site, for the transcript's filters
   */
  SmtpConnection connect(SmtpDestination destination, EgressSource source, String site)
      throws DeliveryFailure {
    DestinationSettings settings = destination.settings();
    InetAddress local = source.sourceAddress();
    DeliveryFailure last = null;
    int tried = 0;
    for (Route.Host host : destination.route().hosts()) {
      for (InetAddress address : host.addresses()) {
        String loop = loopGuard.refusal(address, host.port(), settings.allowLoopback());
        if (loop != null) {
          last =
              DeliveryFailure.permanentFailure(
                  554, "5.4.6", "mail for " + host.name() + " loops back to this server: " + loop);
          continue;
        }
        // A socket bound to an IPv4 source cannot reach an IPv6 host, nor the other way round.
        if (local != null && local.getClass() != address.getClass()) {
          last =
              DeliveryFailure.transientFailure(
                  "4.4.4",
                  "source "
                      + source.name()
                      + " ("
                      + local.getHostAddress()
                      + ") cannot reach "
                      + host.name()
                      + " at "
                      + address.getHostAddress());
          continue;
        }
        tried++;
        try {
          return SmtpConnection.open(
              host.name(),
              address,
              host.port(),
              local,
              destination.ehloName(),
              settings.tls(),
              tls,
              timeouts,
              new ClientTrace(trace, site, source.name(), host.name()));
        } catch (DeliveryFailure e) {
          LOG.debug("{} failed: {}", host.name(), e.getMessage());
          last = e;
        }
        if (Thread.currentThread().isInterrupted()) {
          throw DeliveryFailure.transientFailure("4.3.0", "the ready queue is stopping");
        }
      }
    }
    if (last == null) {
      throw DeliveryFailure.transientFailure("4.4.4", "no host to connect to");
    }
    if (tried > 1) {
      Response response = last.response();
      throw new DeliveryFailure(
          Response.of(
              response.code(),
              response.enhancedCode(),
              "all " + tried + " hosts failed, the last: " + response.content()));
    }
    throw last;
  }
}
