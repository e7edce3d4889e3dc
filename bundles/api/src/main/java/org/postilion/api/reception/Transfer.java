package org.postilion.api.reception;

import java.time.Instant;
import java.util.List;
import org.postilion.api.delivery.MessageContent;

/**
 * A queued message moved here from another node by an xfer: its recipients of one scheduled queue,
 * as that node kept them. It is queued as it was (content, queue, schedule), without the checks and
 * changes of a first reception (filters, signing, header hygiene), which it had there.
 *
 * @param sourceNode the id of the node it comes from
 * @param sourceId its id there
 * @param queue its scheduled queue ({@code campaign:tenant@domain}), which names its tenant and
 *     campaign
 * @param created when that node received it
 * @param due when its next attempt is due
 * @param attempts attempts made so far
 * @param peerAddress the address the transfer came from, for records
 */
public record Transfer(
    String sourceNode,
    String sourceId,
    String sender,
    List<String> recipients,
    String queue,
    Instant created,
    Instant due,
    int attempts,
    MessageContent content,
    String peerAddress) {

  /** Recipients one transfer may carry (a batch of one scheduled queue). */
  public static final int MAX_RECIPIENTS = 10_000;

  public Transfer {
    recipients = List.copyOf(recipients);
  }
}
