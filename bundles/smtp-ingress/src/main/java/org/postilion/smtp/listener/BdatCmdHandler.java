package org.postilion.smtp.listener;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.apache.james.core.MaybeSender;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Request;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.CommandHandler;
import org.apache.james.protocols.api.handler.LineHandler;
import org.apache.james.protocols.smtp.MailEnvelopeImpl;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.apache.james.protocols.smtp.hook.HookResult;

/**
 * CHUNKING (RFC 3030): {@code BDAT <size> [LAST]}. The frame decoder passes the announced octets on
 * unframed; they are collected here, and the last chunk hands the message to the spool like DATA
 * does. Like DATA, the message must use CRLF line endings.
 */
final class BdatCmdHandler implements CommandHandler<SMTPSession>, EhloExtension {
  /** The chunked message of the transaction and the octets of the current chunk still expected. */
  static final class Chunks {
    final ByteArrayOutputStream message = new ByteArrayOutputStream();
    long remaining;
    boolean last;
    boolean tooBig;
  }

  static final ProtocolSession.AttachmentKey<Chunks> CHUNKS =
      ProtocolSession.AttachmentKey.of("postilion.bdat", Chunks.class);

  private final ListenerSettings settings;
  private final SpoolingMessageHook spooling;
  private final Refusals refusals;

  BdatCmdHandler(ListenerSettings settings, SpoolingMessageHook spooling, Refusals refusals) {
    this.settings = settings;
    this.spooling = spooling;
    this.refusals = refusals;
  }

  /** True while a chunked message is being received. */
  static boolean inChunks(SMTPSession session) {
    return session.getAttachment(CHUNKS, State.Transaction).isPresent();
  }

  /** The chunk octets the decoder must still pass on unframed; 0 when it frames lines. */
  static Chunks pendingChunk(SMTPSession session) {
    return session
        .getAttachment(CHUNKS, State.Transaction)
        .filter(chunks -> chunks.remaining > 0)
        .orElse(null);
  }

  @Override
  public Collection<String> getImplCommands() {
    return List.of("BDAT");
  }

  @Override
  public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
    return List.of("CHUNKING");
  }

  @Override
  public Response onCommand(SMTPSession session, Request request) {
    String[] arguments =
        request.getArgument() == null ? new String[0] : request.getArgument().trim().split(" +");
    long size;
    try {
      size = Long.parseLong(arguments[0]);
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      size = -1;
    }
    boolean last = arguments.length == 2 && arguments[1].toUpperCase(Locale.ROOT).equals("LAST");
    if (size < 0 || arguments.length > 2 || (arguments.length == 2 && !last)) {
      // The octets cannot be skipped without a size: the session cannot go on in step.
      SMTPResponse response = new SMTPResponse("501", "5.5.4 Syntax: BDAT <size> [LAST]");
      response.setEndSession(true);
      return response;
    }
    Chunks chunks = session.getAttachment(CHUNKS, State.Transaction).orElse(null);
    boolean ready =
        session.getAttachment(SMTPSession.SENDER, State.Transaction).isPresent()
            && session
                .getAttachment(SMTPSession.RCPT_LIST, State.Transaction)
                .filter(list -> !list.isEmpty())
                .isPresent();
    if (chunks == null) {
      chunks = new Chunks();
      session.setAttachment(CHUNKS, chunks, State.Transaction);
    }
    chunks.remaining = size;
    chunks.last = last;
    if (!ready) {
      // The octets still follow; they are read and dropped.
      chunks.tooBig = true;
    }
    if (chunks.message.size() + size > settings.maxMessageSize()) {
      chunks.tooBig = true;
    }
    boolean refuseSequence = !ready;
    if (size == 0) {
      return chunkDone(session, chunks, refuseSequence);
    }
    session.pushLineHandler(new ChunkReader(chunks, refuseSequence));
    return null;
  }

  private final class ChunkReader implements LineHandler<SMTPSession> {
    private final Chunks chunks;
    private final boolean refuseSequence;
    private long expected;

    ChunkReader(Chunks chunks, boolean refuseSequence) {
      this.chunks = chunks;
      this.refuseSequence = refuseSequence;
      this.expected = chunks.remaining;
    }

    @Override
    public Response onLine(SMTPSession session, byte[] octets) {
      expected -= octets.length;
      if (!chunks.tooBig) {
        chunks.message.writeBytes(octets);
      }
      if (expected > 0) {
        return null;
      }
      session.popLineHandler();
      return chunkDone(session, chunks, refuseSequence);
    }
  }

  private Response chunkDone(SMTPSession session, Chunks chunks, boolean refuseSequence) {
    if (refuseSequence) {
      session.resetState();
      return new SMTPResponse("503", "5.5.1 MAIL and RCPT first");
    }
    if (chunks.tooBig) {
      if (!chunks.last) {
        return new SMTPResponse("552", "5.3.4 message too big, chunk dropped");
      }
      session.resetState();
      return new SMTPResponse("552", "5.3.4 message exceeds " + settings.maxMessageSize());
    }
    if (!chunks.last) {
      return new SMTPResponse("250", "2.0.0 " + chunks.message.size() + " octets received so far");
    }
    byte[] message = chunks.message.toByteArray();
    Response response = deliver(session, message);
    session.resetState();
    return response;
  }

  private Response deliver(SMTPSession session, byte[] message) {
    if (!StrictLineEndingFilter.hasOnlyCrlf(message)) {
      org.postilion.api.delivery.Response refusal =
          org.postilion.api.delivery.Response.of(
              550, "5.6.11", "bare <LF> or <CR> in message data: lines must end in CRLF");
      return refusals.refuse("bare_line_ending", refusal, session);
    }
    MailEnvelopeImpl envelope = new MailEnvelopeImpl();
    envelope.setSender(
        session
            .getAttachment(SMTPSession.SENDER, State.Transaction)
            .orElse(MaybeSender.nullSender()));
    envelope.setRecipients(
        session.getAttachment(SMTPSession.RCPT_LIST, State.Transaction).orElse(List.of()));
    try (OutputStream out = envelope.getMessageOutputStream()) {
      out.write(message);
    } catch (IOException e) {
      return new SMTPResponse("451", "4.3.0 local error, try later");
    }
    HookResult result = spooling.onMessage(session, envelope);
    return new SMTPResponse(result.getSmtpRetCode(), result.getSmtpDescription());
  }
}
