package org.postilion.api.spool;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the spool keeps about a message besides its bytes.
 *
 * @param sender the envelope sender, empty for the null sender
 * @param tenant the tenant, or {@code null}
 * @param campaign the campaign, or {@code null}
 * @param receptionProtocol how it came in: ESMTP, HTTP...
 * @param logHeaders header fields captured at reception for every record of the message (KumoMTA's
 *     {@code headers}): name as the message spells it, value unfolded
 * @param logMeta meta values captured at reception for every record (KumoMTA's {@code meta})
 */
public record MessageRecord(
    String id,
    String sender,
    Instant created,
    long size,
    String tenant,
    String campaign,
    String receptionProtocol,
    Map<String, String> logHeaders,
    Map<String, String> logMeta) {

  public MessageRecord {
    logHeaders = logHeaders == null ? Map.of() : copy(logHeaders);
    logMeta = logMeta == null ? Map.of() : copy(logMeta);
  }

  /** A message whose records capture nothing. */
  public MessageRecord(
      String id,
      String sender,
      Instant created,
      long size,
      String tenant,
      String campaign,
      String receptionProtocol) {
    this(id, sender, created, size, tenant, campaign, receptionProtocol, Map.of(), Map.of());
  }

  /** Keeps the order the fields were captured in. */
  private static Map<String, String> copy(Map<String, String> map) {
    return map.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
