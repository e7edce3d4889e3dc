package org.postilion.api.bounce;

import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;

/**
 * Receives the messages a report listener accepts (bounces, complaints, auto-replies sent to the
 * report domains): each is on disk when {@link #receive} returns, then read on the inbox's own
 * threads into OOB and Feedback records. A message that is no report is kept for inspection.
 */
public interface ReportInbox {
  /**
   * Stores the message durably.
   *
   * @return the id it is kept under, for the 250 reply
   * @throws ReceptionException with the reply to give when it cannot be stored now
   */
  String receive(Submission submission) throws ReceptionException;
}
