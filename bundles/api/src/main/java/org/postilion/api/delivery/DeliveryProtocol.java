package org.postilion.api.delivery;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;

/**
 * A way of delivering mail: SMTP, maildir, LMTP, a webhook. Each protocol bundle registers one
 * service of this type with the service property {@value #PROTOCOL} naming it ({@code
 * protocol=maildir}); a queue configuration selects it by that name.
 *
 * <p>The queue manager owns the queues, the concurrency and the pacing, as KumoMTA's core does for
 * its dispatchers. A protocol only answers three questions: where does this mail go (its {@link
 * Site}), how is a session to that site opened, and how is a message delivered over a session. Due
 * mail moves from its scheduled queue into the ready queue of its site and egress source; that
 * ready queue opens at most {@code connection_limit} sessions on threads of its own, paces them by
 * the site's shaping rules, and hands them one message after another. Whatever a site does
 * (silence, slowness, errors), only its own ready queue waits.
 *
 * <p>Failures: a {@link DeliveryException} carries the response that applies (a 5xx bounces, a 4xx
 * retries); any other exception, from any of the methods, is a transient failure of the message at
 * hand, with the exception in the record. When the service goes away, its ready queues stop taking
 * mail and their waiting mail goes back to its scheduled queues until a protocol of that name
 * returns.
 */
public interface DeliveryProtocol {

  /** The service property that names the protocol. */
  String PROTOCOL = "protocol";

  /**
   * Where mail for {@code domain} under {@code config} goes, as this protocol sees it: SMTP the MX
   * host set, LMTP the server, maildir the folder root, a webhook its host. Mail whose sites are
   * equal shares a ready queue, its connections and its limits.
   *
   * <p>May take its time (DNS): return a stage that completes when the site is known, and never
   * block the calling thread, which dispatches every queue. A stage failed with a {@link
   * DeliveryException} ends the attempt with its response (a domain without mail hosts bounces).
   */
  CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source);

  /**
   * Opens a session to {@code site} (a connection, a client) leaving from {@code source}. Called on
   * a thread of the site's ready queue, which it may block within the protocol's own timeouts.
   *
   * @throws DeliveryException when the site cannot be reached: the response applies to the message
   *     that wanted the session
   */
  DeliverySession open(Site site, EgressSource source) throws DeliveryException;

  /**
   * The per-queue keys this protocol reads ({@code <protocol>.*}), with their types, defaults and
   * checks. A queue file that selects the protocol may set these and the queue manager's own keys,
   * nothing else: any other key, or a value a check refuses, rejects the file when it is written
   * (or when the protocol arrives), so that a typo is found at once rather than failing every
   * attempt. A protocol with no keys of its own keeps this default.
   */
  default List<ProtocolKey> keys() {
    return List.of();
  }

  /**
   * The protocol's name in the {@code delivery_protocol} field of records, where KumoMTA writes
   * {@code ESMTP} for SMTP and {@code Maildir} for maildir; {@code null} (the default) for the
   * service's {@value #PROTOCOL} name.
   */
  default String recordName() {
    return null;
  }
}
