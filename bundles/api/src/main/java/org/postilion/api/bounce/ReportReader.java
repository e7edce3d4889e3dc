package org.postilion.api.bounce;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a message that came back to a report domain: a delivery status report (RFC 3464 or the
 * home-grown formats of other MTAs and providers), an ARF feedback report (RFC 5965), an auto-reply
 * (RFC 3834), or none of them.
 */
public interface ReportReader {
  /**
   * Reads one message. Never throws for what the message contains: a message that cannot be read is
   * a {@link Report.Kind#UNRECOGNISED} report saying why.
   *
   * @throws IOException only when the stream itself fails
   */
  Report read(InputStream message) throws IOException;
}
