package org.postilion.smtp.listener;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.postilion.api.delivery.Response;

/**
 * Frames what the client sends: lines up to a maximum length, or, after a BDAT command, exactly the
 * announced number of octets. Runs on the session's worker thread, so each frame is handled by the
 * session before the next one is cut, and a BDAT command can switch the framing for the octets
 * right behind it.
 *
 * <p>Bytes pipelined behind STARTTLS are thrown away until the TLS handshake is done: they were
 * sent in plain text, and acting on them after the switch is the STARTTLS command injection bug
 * (CVE-2011-0411 in Postfix).
 */
final class SmtpFrameDecoder extends ByteToMessageDecoder {
  private static final String STARTTLS = "STARTTLS";

  private final int maxLineLength;
  private final String hostname;
  private final Refusals refusals;
  private boolean discardingLongLine;
  private SslHandler awaitingHandshake;

  SmtpFrameDecoder(int maxLineLength, String hostname, Refusals refusals) {
    this.maxLineLength = maxLineLength;
    this.hostname = hostname;
    this.refusals = refusals;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (awaitingHandshake != null) {
      if (!awaitingHandshake.handshakeFuture().isDone()) {
        in.skipBytes(in.readableBytes());
        return;
      }
      awaitingHandshake = null;
    }
    SMTPSession session = session(ctx);
    BdatCmdHandler.Chunks chunk = session == null ? null : BdatCmdHandler.pendingChunk(session);
    if (chunk != null) {
      int take = (int) Math.min(chunk.remaining, in.readableBytes());
      chunk.remaining -= take;
      out.add(in.readRetainedSlice(take));
      return;
    }
    int end = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
    if (discardingLongLine) {
      if (end < 0) {
        in.skipBytes(in.readableBytes());
      } else {
        in.readerIndex(end + 1);
        discardingLongLine = false;
        lineTooLong(ctx);
      }
      return;
    }
    if (end < 0) {
      if (in.readableBytes() > maxLineLength) {
        discardingLongLine = true;
        in.skipBytes(in.readableBytes());
      }
      return;
    }
    int length = end + 1 - in.readerIndex();
    if (length > maxLineLength) {
      in.readerIndex(end + 1);
      lineTooLong(ctx);
      return;
    }
    ByteBuf line = in.readRetainedSlice(length);
    if (!isStartTls(line)) {
      out.add(line);
      return;
    }
    // Handled now rather than through out, so the pipeline can be looked at right after it.
    ctx.fireChannelRead(line);
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls != null && !tls.handshakeFuture().isDone()) {
      in.skipBytes(in.readableBytes());
      awaitingHandshake = tls;
    }
  }

  private static SMTPSession session(ChannelHandlerContext ctx) {
    return (SMTPSession) ctx.channel().attr(BasicChannelInboundHandler.SESSION_ATTRIBUTE_KEY).get();
  }

  private static boolean isStartTls(ByteBuf line) {
    int start = line.readerIndex();
    int end = line.writerIndex();
    while (end > start && (line.getByte(end - 1) == '\n' || line.getByte(end - 1) == '\r')) {
      end--;
    }
    while (end > start && line.getByte(end - 1) == ' ') {
      end--;
    }
    return end - start == STARTTLS.length()
        && line.toString(start, end - start, StandardCharsets.US_ASCII).equalsIgnoreCase(STARTTLS);
  }

  /**
   * A command line gets 500 and the session goes on; a message line ends the session, since the
   * client is still sending a message that can no longer be taken as it is.
   */
  private void lineTooLong(ChannelHandlerContext ctx) {
    SMTPSession session = session(ctx);
    boolean inMessage =
        session != null
            && session.getAttachment(DataCmdHandler.MAILENV, State.Transaction).isPresent();
    Response response =
        Response.of(500, "5.5.2", "line too long: at most " + maxLineLength + " octets");
    String reply =
        inMessage
            ? "500 5.5.2 " + hostname + " message line too long, closing"
            : response.toString();
    var written =
        ctx.writeAndFlush(Unpooled.copiedBuffer(reply + "\r\n", StandardCharsets.US_ASCII));
    if (session != null) {
      refusals.sessionRefused("line_too_long", response, session);
    }
    if (inMessage) {
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }
}
