package org.postilion.api.admin;

import java.time.Instant;
import java.util.List;

/**
 * A queued message as {@code mta:message-show} shows it.
 *
 * @param headers the message's header section, as received (folded lines kept)
 */
public record MessageDetails(
    String id,
    String sender,
    Instant created,
    long size,
    String tenant,
    String campaign,
    String receptionProtocol,
    List<QueuedRecipient> recipients,
    String headers) {}
