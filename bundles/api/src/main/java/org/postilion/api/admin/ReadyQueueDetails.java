package org.postilion.api.admin;

import java.time.Instant;
import java.util.List;
import org.postilion.api.shaping.ShapingSettings;

/**
 * One ready queue inspected: its status, the limits in force and its sessions.
 *
 * @param egressPool the pool of the mail it holds ({@code unspecified} when none)
 * @param connectionLimitedSince since when mail waits because {@code connection_limit} sessions are
 *     open; {@code null} when it does not
 */
public record ReadyQueueDetails(
    ReadyQueueStatus status,
    String egressPool,
    ShapingSettings shaping,
    List<ReadyQueueSession> sessions,
    Instant connectionLimitedSince) {

  public ReadyQueueDetails {
    sessions = List.copyOf(sessions);
  }
}
