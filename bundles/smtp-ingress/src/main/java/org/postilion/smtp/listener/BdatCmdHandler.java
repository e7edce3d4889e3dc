package org.postilion.smtp.listener;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;
import org.apache.james.protocols.smtp.hook.HookResult;
import org.postilion.api.reception.ContentBuffer;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;

/**
 * CHUNKING (RFC 3030): {@code BDAT <size> [LAST]}. The frame decoder passes the announced octets on
 * unframed; they are collected here, and the last chunk hands the message to the spool like DATA
 * does. Like DATA, the message must use CRLF line endings.
 */
final class BdatCmdHandler implements CommandHandler<SMTPSession>, EhloExtension {
  /** The chunked message of the transaction and the octets of the current chunk still expected. */
  static final class Chunks {
    /** Where the octets go; null when they are read and dropped. */
    BufferedEnvelope envelope;

    long size;
    long remaining;
    boolean last;
    boolean tooBig;

    /** Why the message cannot be taken, when the buffer could not be had. */
    org.postilion.api.delivery.Response noRoom;

    String noRoomReason;

    final LineEndings lineEndings = new LineEndings();
  }

  /** Whether every CR is followed by LF and every LF preceded by CR, across chunk borders. */
  static final class LineEndings {
    private boolean afterCr;
    private boolean bare;

    void scan(byte[] octets) {
      for (byte b : octets) {
        if (afterCr && b != '\n') {
          bare = true;
        } else if (!afterCr && b == '\n') {
          bare = true;
        }
        afterCr = b == '\r';
      }
    }

    boolean onlyCrlf() {
      return !bare && !afterCr;
    }
  }

  static final ProtocolSession.AttachmentKey<Chunks> CHUNKS =
      ProtocolSession.AttachmentKey.of("postilion.bdat", Chunks.class);

  private final ListenerSettings settings;
  private final SpoolingMessageHook spooling;
  private final Refusals refusals;
  private final Reception reception;

  BdatCmdHandler(
      ListenerSettings settings,
      SpoolingMessageHook spooling,
      Refusals refusals,
      Reception reception) {
    this.settings = settings;
    this.spooling = spooling;
    this.refusals = refusals;
    this.reception = reception;
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
      if (ready) {
        start(session, chunks);
      }
    }
    chunks.remaining = size;
    chunks.last = last;
    if (!ready) {
      // The octets still follow; they are read and dropped.
      chunks.tooBig = true;
    }
    if (chunks.size + size > settings.maxMessageSize() && !chunks.tooBig) {
      chunks.tooBig = true;
      chunks.envelope = null;
      SessionBuffer.close(session);
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
      if (!chunks.tooBig && chunks.envelope != null) {
        chunks.size += octets.length;
        chunks.lineEndings.scan(octets);
        try {
          chunks.envelope.getMessageOutputStream().write(octets);
        } catch (IOException e) {
          throw new UncheckedIOException("the envelope keeps its failures to itself", e);
        }
      }
      if (expected > 0) {
        return null;
      }
      session.popLineHandler();
      return chunkDone(session, chunks, refuseSequence);
    }
  }

  /** The first chunk of a message: a buffer to collect the chunks in. */
  private void start(SMTPSession session, Chunks chunks) {
    try {
      ContentBuffer buffer = SessionBuffer.open(session, reception);
      chunks.envelope =
          new BufferedEnvelope(
              session
                  .getAttachment(SMTPSession.SENDER, State.Transaction)
                  .orElse(MaybeSender.nullSender()),
              session.getAttachment(SMTPSession.RCPT_LIST, State.Transaction).orElse(List.of()),
              buffer);
    } catch (ReceptionException e) {
      chunks.noRoom = e.response();
      chunks.noRoomReason = e.reason() != null ? e.reason() : "no_room";
    }
  }

  private Response chunkDone(SMTPSession session, Chunks chunks, boolean refuseSequence) {
    if (refuseSequence) {
      session.resetState();
      return new SMTPResponse("503", "5.5.1 MAIL and RCPT first");
    }
    if (chunks.noRoom != null) {
      if (!chunks.last) {
        return new SMTPResponse(
            String.valueOf(chunks.noRoom.code()),
            chunks.noRoom.enhancedCode() + " " + chunks.noRoom.content() + ", chunk dropped");
      }
      org.postilion.api.delivery.Response noRoom = chunks.noRoom;
      Response refused = refusals.refuse(chunks.noRoomReason, noRoom, session);
      session.resetState();
      return refused;
    }
    if (chunks.tooBig) {
      if (!chunks.last) {
        return new SMTPResponse("552", "5.3.4 message too big, chunk dropped");
      }
      Response refused =
          refusals.refuse(
              "max_message_size",
              org.postilion.api.delivery.Response.of(
                  552, "5.3.4", "message exceeds " + settings.maxMessageSize() + " octets"),
              session);
      session.resetState();
      return refused;
    }
    if (!chunks.last) {
      return new SMTPResponse("250", "2.0.0 " + chunks.size + " octets received so far");
    }
    Response response = deliver(session, chunks);
    session.resetState();
    return response;
  }

  private Response deliver(SMTPSession session, Chunks chunks) {
    if (!chunks.lineEndings.onlyCrlf()) {
      SessionBuffer.close(session);
      org.postilion.api.delivery.Response refusal =
          org.postilion.api.delivery.Response.of(
              550, "5.6.11", "bare <LF> or <CR> in message data: lines must end in CRLF");
      return refusals.refuse("bare_line_ending", refusal, session);
    }
    HookResult result = spooling.onMessage(session, chunks.envelope);
    return new SMTPResponse(result.getSmtpRetCode(), result.getSmtpDescription());
  }
}
