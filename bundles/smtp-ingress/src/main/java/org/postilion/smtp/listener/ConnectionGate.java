package org.postilion.smtp.listener;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.postilion.api.delivery.Response;

/**
 * Admits a connection only while the listener and the client's address are below their limits.
 * Beyond them the client hears 421 and the connection is closed before any session exists, so a
 * flood costs no worker thread.
 */
@ChannelHandler.Sharable
final class ConnectionGate extends ChannelInboundHandlerAdapter {
  private static final AttributeKey<Boolean> ADMITTED = AttributeKey.valueOf("postilion.admitted");

  private final ListenerSettings settings;
  private final Refusals refusals;
  private final AtomicInteger open = new AtomicInteger();
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  /** Open connections per client address; counted inside the map so a close never races an open. */
  private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

  ConnectionGate(ListenerSettings settings, Refusals refusals) {
    this.settings = settings;
    this.refusals = refusals;
  }

  /** Client connections open now, the refused ones until they are closed included. */
  int openConnections() {
    return open.get();
  }

  /** Closes every connection, so none is left to a worker group that is shutting down. */
  void closeAll(Duration wait) {
    channels.close().awaitUninterruptibly(wait.toMillis());
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    InetAddress client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
    channels.add(ctx.channel());
    int total = open.incrementAndGet();
    int fromClient = perAddress.merge(client, 1, Integer::sum);
    if (settings.maxConnections() > 0 && total > settings.maxConnections()) {
      refuse(ctx, client, "max_connections", Response.of(421, "4.3.2", "too many connections"));
    } else if (fromClient > settings.maxConnectionsPerIp() && settings.perIpLimitApplies(client)) {
      refuse(
          ctx,
          client,
          "max_connections_per_ip",
          Response.of(421, "4.7.0", "too many connections from " + client.getHostAddress()));
    } else {
      ctx.channel().attr(ADMITTED).set(Boolean.TRUE);
      super.channelActive(ctx);
    }
  }

  private void refuse(
      ChannelHandlerContext ctx, InetAddress client, String reason, Response response) {
    String line =
        response.code()
            + " "
            + response.enhancedCode()
            + " "
            + settings.hostname()
            + " "
            + response.content()
            + "\r\n";
    ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII))
        .addListener(ChannelFutureListener.CLOSE);
    refusals.connectionRefused(reason, response, client.getHostAddress());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (Boolean.TRUE.equals(ctx.channel().attr(ADMITTED).get())) {
      super.channelRead(ctx, msg);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    InetAddress client = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
    open.decrementAndGet();
    perAddress.computeIfPresent(client, (a, count) -> count == 1 ? null : count - 1);
    if (Boolean.TRUE.equals(ctx.channel().attr(ADMITTED).get())) {
      super.channelInactive(ctx);
    }
  }
}
