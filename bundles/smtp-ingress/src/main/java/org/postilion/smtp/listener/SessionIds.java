package org.postilion.smtp.listener;

import java.util.UUID;
import org.apache.james.protocols.api.ProtocolSession.AttachmentKey;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.smtp.SMTPSession;

/**
 * KumoMTA's {@code session_id} of a client connection: a UUID shared by the Reception and Rejection
 * records of everything the connection sent, made on first use.
 */
final class SessionIds {
  private static final AttachmentKey<String> ID =
      AttachmentKey.of("postilion.session_id", String.class);

  private SessionIds() {}

  static String of(SMTPSession session) {
    return session
        .getAttachment(ID, State.Connection)
        .orElseGet(
            () -> {
              String made = UUID.randomUUID().toString();
              session.setAttachment(ID, made, State.Connection);
              return made;
            });
  }
}
