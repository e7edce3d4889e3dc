package org.postilion.api.delivery;

import java.util.Objects;

/**
 * Where a protocol delivers some mail: the unit of ready queues, connection limits, pacing and
 * ready-queue suspension.
 *
 * @param name what operators see and shaping rules match: {@code mx1.example.com,mx2.example.com}
 *     for SMTP (KumoMTA's site name: domains with the same MX hosts share it), {@code /var/mail}
 *     for maildir, {@code lmtp.example.net:24} for LMTP
 * @param variant what else a session is made with and cannot change later (an SMTP connection's TLS
 *     mode and EHLO name): mail of the same site but another variant gets a ready queue of its own;
 *     empty when there is nothing
 * @param route what the protocol needs to open a session (resolved hosts and addresses, settings),
 *     opaque to the queue manager; it may be newer with each message, as DNS answers change
 */
public record Site(String name, String variant, Object route) {

  public Site {
    Objects.requireNonNull(name, "name");
    variant = variant == null ? "" : variant;
  }

  /** A site with nothing to tell its sessions apart and nothing to carry. */
  public static Site named(String name) {
    return new Site(name, "", null);
  }

  /** The same site with a newer route: what the next session to it should use. */
  public Site withRoute(Object newer) {
    return new Site(name, variant, newer);
  }
}
