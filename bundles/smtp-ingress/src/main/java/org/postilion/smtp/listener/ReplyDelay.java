package org.postilion.smtp.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;

/**
 * Holds back replies a hook asked to delay (a tarpit for failed AUTH), without holding a thread:
 * the write is scheduled, and every later write, flush and close queues up behind it in order.
 */
final class ReplyDelay extends ChannelOutboundHandlerAdapter {
  private static final ProtocolSession.AttachmentKey<Duration> DELAY =
      ProtocolSession.AttachmentKey.of("postilion.reply.delay", Duration.class);

  private final Deque<Runnable> held = new ArrayDeque<>();
  private long heldUntil;

  /** Asks that the next reply of the session be sent {@code delay} later. */
  static void delayNextReply(ProtocolSession session, Duration delay) {
    session.setAttachment(DELAY, delay, State.Connection);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    ProtocolSession session =
        (ProtocolSession)
            ctx.channel().attr(BasicChannelInboundHandler.SESSION_ATTRIBUTE_KEY).get();
    if (session != null) {
      session
          .removeAttachment(DELAY, State.Connection)
          .ifPresent(delay -> heldUntil = Math.max(heldUntil, System.nanoTime() + delay.toNanos()));
    }
    later(ctx, () -> ctx.write(msg, promise));
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    later(ctx, ctx::flush);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    later(ctx, () -> ctx.close(promise));
  }

  /** Runs now, or in order behind what is already held back. */
  private void later(ChannelHandlerContext ctx, Runnable action) {
    long wait = heldUntil - System.nanoTime();
    if (wait <= 0 && held.isEmpty()) {
      action.run();
      return;
    }
    held.add(action);
    if (held.size() == 1) {
      ctx.executor().schedule(() -> release(ctx), Math.max(0, wait), TimeUnit.NANOSECONDS);
    }
  }

  /** One task releases everything held, so a flush cannot overtake its write. */
  private void release(ChannelHandlerContext ctx) {
    long wait = heldUntil - System.nanoTime();
    if (wait > 0) {
      ctx.executor().schedule(() -> release(ctx), wait, TimeUnit.NANOSECONDS);
      return;
    }
    Runnable action;
    while ((action = held.poll()) != null) {
      action.run();
    }
  }
}
