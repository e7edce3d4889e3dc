package org.postilion.queue.manager;

import org.postilion.api.metrics.ServiceNames;

/**
 * What makes mail share a ready queue (KumoMTA: one per egress source and destination site): the
 * protocol, the site, what else its sessions are made with, and the source.
 */
record ReadyQueueKey(String protocol, String site, String variant, String source) {

  /**
   * The name operators see, KumoMTA's {@code source->site@protocol}, with KumoMTA's protocol name
   * ({@code smtp_client} for SMTP), which its tools (kcli, tsa-daemon) take apart.
   */
  String name() {
    return source + "->" + site + "@" + ServiceNames.of(protocol);
  }
}
