package org.postilion.smtp.listener;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import org.apache.james.protocols.api.OidcSASLConfiguration;
import org.apache.james.protocols.smtp.SMTPConfiguration;

/** What James Protocols asks of a listener, answered from its settings. */
final class ListenerConfiguration implements SMTPConfiguration {
  private final ListenerSettings settings;

  ListenerConfiguration(ListenerSettings settings) {
    this.settings = settings;
  }

  @Override
  public String getGreeting() {
    return settings.hostname() + " ESMTP Postilion";
  }

  @Override
  public String getSoftwareName() {
    return "Postilion";
  }

  @Override
  public String getHelloName() {
    return settings.hostname();
  }

  @Override
  public long getMaxMessageSize() {
    return settings.maxMessageSize();
  }

  @Override
  public boolean isRelayingAllowed(String remoteIp) {
    try {
      // remoteIp is a literal address from the socket: no DNS lookup happens here.
      return settings.mayRelay(InetAddress.getByName(remoteIp));
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public boolean isAuthAnnounced(String remoteIp, boolean tlsStarted) {
    return tlsStarted || settings.authAllowPlaintext();
  }

  @Override
  public boolean useHeloEhloEnforcement() {
    return true;
  }

  @Override
  public boolean useAddressBracketsEnforcement() {
    return true;
  }

  @Override
  public boolean isPlainAuthEnabled() {
    return true;
  }

  @Override
  public Optional<OidcSASLConfiguration> saslConfiguration() {
    return Optional.empty();
  }
}
