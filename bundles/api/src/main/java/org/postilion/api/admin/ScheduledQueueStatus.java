package org.postilion.api.admin;

import java.time.Instant;

/**
 * One scheduled queue as the queue summary shows it.
 *
 * @param recipients queued recipients, those in delivery included
 * @param oldest reception time of its oldest message
 * @param nextDue when its next waiting message is due; {@code null} when none waits
 * @param inDelivery recipients whose delivery is under way
 * @param state {@code active}, {@code suspended} or {@code waiting for protocol <name>}
 */
public record ScheduledQueueStatus(
    String name,
    String protocol,
    int recipients,
    Instant oldest,
    Instant nextDue,
    int inDelivery,
    String state) {}
