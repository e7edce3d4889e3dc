package org.postilion.api.bounce;

import java.util.List;
import org.postilion.api.event.EventRecord;

/**
 * What a message sent back to a report domain says.
 *
 * @param kind what it was read as
 * @param format the format recognised, e.g. {@code rfc3464}, {@code qmail}, {@code arf}
 * @param records the records it yields: one {@code OOB} record per failed recipient of a delivery
 *     report or auto-reply, one {@code Feedback} record for a feedback report; none when
 *     unrecognised
 * @param note why nothing was recorded, or what was left out; {@code null} when there is nothing to
 *     say
 */
public record Report(Kind kind, String format, List<EventRecord> records, String note) {
  /** What a returned message was read as. */
  public enum Kind {
    DELIVERY_STATUS,
    FEEDBACK,
    AUTO_REPLY,
    UNRECOGNISED
  }

  public Report {
    records = List.copyOf(records);
  }

  public static Report unrecognised(String why) {
    return new Report(Kind.UNRECOGNISED, null, List.of(), why);
  }
}
