package org.postilion.api.admin;

import java.time.Instant;

/**
 * One queued recipient of a message.
 *
 * @param due when its next attempt is due
 * @param state {@code scheduled}, {@code in delivery}, {@code suspended} or {@code waiting for
 *     protocol <name>}
 * @param lastResponse the reply to its last attempt; {@code null} before the first
 */
public record QueuedRecipient(
    String messageId,
    String recipient,
    String queue,
    Instant created,
    Instant due,
    int attempts,
    String state,
    String lastResponse) {}
