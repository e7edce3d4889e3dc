package org.postilion.delivery.smtp;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** What the records tell of an SMTP connection, in KumoMTA's forms. */
final class SessionFacts {
  private SessionFacts() {}

  /** {@code 192.0.2.1:40123}, {@code [2001:db8::1]:40123}; null when not bound. */
  static String address(SocketAddress address) {
    if (!(address instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return null;
    }
    String host = inet.getAddress().getHostAddress();
    return (inet.getAddress() instanceof Inet6Address ? "[" + host + "]" : host)
        + ":"
        + inet.getPort();
  }

  /**
   * The subject of the peer's certificate, one {@code TYPE=value} per RDN in certificate order
   * ({@code C=US} first, {@code CN=...} last, as OpenSSL lists them); null without a certificate.
   */
  static List<String> peerSubject(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
      return null;
    }
    String name = certificate.getSubjectX500Principal().getName();
    try {
      // LdapName lists the RDNs right to left: the certificate's order.
      return new LdapName(name).getRdns().stream().map(Rdn::toString).toList();
    } catch (InvalidNameException e) {
      return List.of(name);
    }
  }
}
