package org.postilion.delivery.smtp;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The two TLS client contexts: one that checks certificates against the JVM's CAs, one that does
 * not.
 */
final class TlsContexts {
  private final SSLContext verifying;
  private final SSLContext trustingAll;

  TlsContexts() {
    try {
      verifying = SSLContext.getInstance("TLS");
      verifying.init(null, null, null);
      trustingAll = SSLContext.getInstance("TLS");
      trustingAll.init(null, new TrustManager[] {new TrustAll()}, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM offers no TLS", e);
    }
  }

  SSLContext verifying() {
    return verifying;
  }

  SSLContext trustingAll() {
    return trustingAll;
  }

  /** For the *_insecure modes: encryption against passive eavesdroppers, no authentication. */
  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
      // Only used by a client; never asked about clients.
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      // Accepts any server certificate by design of the insecure modes.
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
