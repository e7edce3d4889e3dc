package org.postilion.api.admin;

import java.time.Instant;

/**
 * One session of a ready queue (KumoMTA's dispatcher): a connection and the thread that carries
 * messages over it.
 *
 * @param sessionId the id its Delivery, TransientFailure and Bounce records carry
 * @param phase {@code ConnectionRateThrottled}, {@code ConnectionLimited} (waiting for one of the
 *     cluster's shared connection leases), {@code AttemptingConnection}, {@code
 *     MessageRateThrottled}, {@code DeliveringMessage}, {@code Idle} or {@code Closing}
 * @param phaseSince when it entered that phase
 * @param delivered messages delivered over it
 * @param transfailed messages that failed transiently over it
 * @param failed messages that failed permanently over it
 */
public record ReadyQueueSession(
    String sessionId,
    Instant startedAt,
    String phase,
    Instant phaseSince,
    int delivered,
    int transfailed,
    int failed) {}
