package org.postilion.smtp.listener;

import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.handler.DisconnectHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;

/**
 * The reception buffer of a session's current message. A session has at most one: it is closed when
 * the message is spooled or refused, when the next message starts, and when the connection ends, so
 * a client that drops mid-message leaves no memory or temporary file behind.
 */
final class SessionBuffer implements DisconnectHandler<SMTPSession> {
  private static final ProtocolSession.AttachmentKey<ContentBuffer> BUFFER =
      ProtocolSession.AttachmentKey.of("postilion.buffer", ContentBuffer.class);

  /**
   * A new buffer for the session's next message.
   *
   * @throws ReceptionException 451 4.3.1 when the server has no room for it
   */
  static ContentBuffer open(SMTPSession session, Reception reception) throws ReceptionException {
    close(session);
    ContentBuffer buffer = reception.buffer();
    session.setAttachment(BUFFER, buffer, State.Connection);
    return buffer;
  }

  /** Frees the session's buffer, if it has one. */
  static void close(SMTPSession session) {
    session.removeAttachment(BUFFER, State.Connection).ifPresent(ContentBuffer::close);
  }

  @Override
  public void onDisconnect(SMTPSession session) {
    close(session);
  }
}
