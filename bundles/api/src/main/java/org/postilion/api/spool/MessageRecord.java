package org.postilion.api.spool;

import java.time.Instant;

/**
 * What the spool keeps about a message besides its bytes.
 *
 * @param sender the envelope sender, empty for the null sender
 * @param tenant the tenant, or {@code null}
 * @param campaign the campaign, or {@code null}
 * @param receptionProtocol how it came in: ESMTP, HTTP...
 */
public record MessageRecord(
    String id,
    String sender,
    Instant created,
    long size,
    String tenant,
    String campaign,
    String receptionProtocol) {}
