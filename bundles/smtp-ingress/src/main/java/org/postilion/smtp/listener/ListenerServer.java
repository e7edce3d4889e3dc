package org.postilion.smtp.listener;

import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.james.protocols.api.Protocol;
import org.apache.james.protocols.netty.AbstractAsyncServer;
import org.apache.james.protocols.netty.AbstractSSLAwareChannelPipelineFactory;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;
import org.apache.james.protocols.netty.ChannelHandlerFactory;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.netty.LineDelimiterBasedChannelHandlerFactory;
import org.apache.james.protocols.netty.ProtocolMDCContextFactory;

/**
 * A James protocol server whose sessions run on a worker group of its own. James 3.8.1 runs the
 * protocol handler, and so every hook, on the Netty I/O event loop, where the spool write of the
 * message hook would stall every connection of that loop; here the I/O loop only moves bytes.
 */
final class ListenerServer extends AbstractAsyncServer {
  /** RFC 5321 4.5.3.1.6 asks for at least 1000 octets; Postfix accepts 2048 before it folds. */
  private static final int MAX_LINE_LENGTH = 8192;

  private final Protocol protocol;
  private final int maxConnections;
  private final EventExecutorGroup workers;

  ListenerServer(Protocol protocol, String name, int workerThreads, int maxConnections) {
    this.protocol = protocol;
    this.maxConnections = maxConnections;
    this.jmxName = "postilion-smtp-" + name;
    AtomicInteger number = new AtomicInteger();
    this.workers =
        new DefaultEventExecutorGroup(
            workerThreads,
            task -> {
              Thread thread =
                  new Thread(task, "postilion-smtp-" + name + "-" + number.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
  }

  @Override
  protected ChannelInitializer<SocketChannel> createPipelineFactory() {
    ChannelHandlerFactory framer = new LineDelimiterBasedChannelHandlerFactory(MAX_LINE_LENGTH);
    return new AbstractSSLAwareChannelPipelineFactory<SocketChannel>(
        getTimeout(), maxConnections, 0, false, () -> null, framer, workers) {
      @Override
      protected ChannelInboundHandlerAdapter createHandler() {
        return new BasicChannelInboundHandler(
            new ProtocolMDCContextFactory.Standard(), protocol, null, false);
      }

      @Override
      public void initChannel(SocketChannel channel) throws Exception {
        super.initChannel(channel);
        // The handler is not @Sharable, so it cannot be moved: put a fresh one on the workers.
        channel.pipeline().remove(HandlerConstants.CORE_HANDLER);
        channel.pipeline().addLast(workers, HandlerConstants.CORE_HANDLER, createHandler());
      }
    };
  }

  @Override
  public synchronized void unbind() {
    try {
      super.unbind();
    } finally {
      workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    }
  }
}
