package org.postilion.smtp.listener;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.postilion.api.delivery.Response;

/**
 * Drops a client that stays silent too long: {@code command_timeout} between commands, {@code
 * data_timeout} while it sends a message (RFC 5321 4.5.3.2 asks for 5 and 3 minutes). Runs on the
 * session's worker thread, so it reads the session's state without locks.
 */
final class SessionDeadline extends ChannelDuplexHandler {
  private final long commandTimeoutNanos;
  private final long dataTimeoutNanos;
  private final String hostname;
  private final Refusals refusals;
  private long lastActivity;
  private ScheduledFuture<?> check;

  SessionDeadline(
      Duration commandTimeout, Duration dataTimeout, String hostname, Refusals refusals) {
    this.commandTimeoutNanos = commandTimeout.toNanos();
    this.dataTimeoutNanos = dataTimeout.toNanos();
    this.hostname = hostname;
    this.refusals = refusals;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    lastActivity = System.nanoTime();
    schedule(ctx, Math.min(commandTimeoutNanos, dataTimeoutNanos));
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    lastActivity = System.nanoTime();
    super.channelRead(ctx, msg);
  }

  /** A reply restarts the client's clock: time the server spent is not the client's. */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    lastActivity = System.nanoTime();
    super.write(ctx, msg, promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (check != null) {
      check.cancel(false);
    }
    super.channelInactive(ctx);
  }

  private void schedule(ChannelHandlerContext ctx, long delayNanos) {
    check = ctx.executor().schedule(() -> expireIfIdle(ctx), delayNanos, TimeUnit.NANOSECONDS);
  }

  private void expireIfIdle(ChannelHandlerContext ctx) {
    if (!ctx.channel().isActive()) {
      return;
    }
    SMTPSession session =
        (SMTPSession) ctx.channel().attr(BasicChannelInboundHandler.SESSION_ATTRIBUTE_KEY).get();
    boolean inMessage =
        session != null
            && (session.getAttachment(DataCmdHandler.MAILENV, State.Transaction).isPresent()
                || BdatCmdHandler.inChunks(session));
    long timeout = inMessage ? dataTimeoutNanos : commandTimeoutNanos;
    long idle = System.nanoTime() - lastActivity;
    if (idle < timeout) {
      // The phase may change before then: look again no later than the shorter timeout.
      schedule(ctx, Math.min(timeout - idle, Math.min(commandTimeoutNanos, dataTimeoutNanos)));
      return;
    }
    Response response = Response.of(421, "4.4.2", "timeout exceeded");
    if (session != null) {
      refusals.sessionRefused(inMessage ? "data_timeout" : "command_timeout", response, session);
    }
    ctx.writeAndFlush(
            Unpooled.copiedBuffer(
                "421 4.4.2 " + hostname + " Error: timeout exceeded\r\n",
                StandardCharsets.US_ASCII))
        .addListener(ChannelFutureListener.CLOSE);
  }
}
