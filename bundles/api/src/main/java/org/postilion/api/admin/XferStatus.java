package org.postilion.api.admin;

import java.time.Instant;

/**
 * One transfer of queued mail to another node (KumoMTA's xfer), named as KumoMTA names its xfer
 * queue: the target followed by {@code /.xfer.postilion.internal}.
 *
 * @param name the name {@code mta:xfer-cancel} and {@code xfer-cancel/v1} take
 * @param target the other node's HTTP API, without credentials
 * @param state {@code running}, {@code done}, {@code cancelled} or {@code failed} (the target kept
 *     refusing: what was left went back to its queues)
 * @param taken recipients taken from their queues for the transfer so far
 * @param transferred recipients the target has on disk, gone from here
 * @param returned recipients given back to their queues: not transferred (a failure or a cancel)
 * @param lastError the latest failure, or null
 */
public record XferStatus(
    String name,
    String target,
    String reason,
    String state,
    Instant started,
    int taken,
    int transferred,
    int returned,
    String lastError) {}
