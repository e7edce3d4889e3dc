package org.postilion.queue.manager;

/**
 * What makes mail share a ready queue (KumoMTA: one per egress source and destination site): the
 * protocol, the site, what else its sessions are made with, and the source.
 */
record ReadyQueueKey(String protocol, String site, String variant, String source) {

  /** The name operators see: {@code source->site@protocol}. */
  String name() {
    return source + "->" + site + "@" + protocol;
  }
}
