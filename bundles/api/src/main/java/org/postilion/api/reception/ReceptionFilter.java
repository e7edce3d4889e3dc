package org.postilion.api.reception;

/**
 * A step every accepted message passes after the client has sent it and before it is spooled:
 * header hygiene, policy, signing. Filters are found as services (the whiteboard pattern) and run
 * one after another in ascending order of their {@value #ORDER} service property, on the thread
 * that spools the message (never a network event loop), so they may block briefly.
 */
public interface ReceptionFilter {

  /** Service property: an integer, filters run in ascending order of it. */
  String ORDER = "reception.order";

  /** Order of header hygiene: Message-ID, Date, Received, From checks. */
  int HYGIENE = 100;

  /** Order of policy that may change the message or its routing. */
  int POLICY = 500;

  /** Order of signing, which must see the final bytes. */
  int SIGNING = 900;

  /**
   * Inspects or changes the message.
   *
   * @throws ReceptionException to refuse the message with that reply; nothing is spooled
   */
  void filter(ReceivedMessage message) throws ReceptionException;
}
