package org.postilion.delivery.smtp;

import org.postilion.api.egress.EgressSource;

/**
 * What makes mail share a ready queue: the destination site and the egress source it leaves from
 * (KumoMTA: one ready queue per source and site). The TLS mode and the EHLO name are in the key too
 * because a connection is set up with them and reused as is.
 */
record ReadyQueueKey(String siteName, EgressSource source, TlsMode tls, String ehloName) {

  /** The name shown in the queue summary, {@code source->site@smtp}. */
  String name() {
    return source.name() + "->" + siteName + "@" + SmtpDeliveryProtocol.NAME;
  }
}
