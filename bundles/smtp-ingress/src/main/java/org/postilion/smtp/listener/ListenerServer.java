package org.postilion.smtp.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.james.protocols.api.Protocol;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.netty.AbstractAsyncServer;
import org.apache.james.protocols.netty.BasicChannelInboundHandler;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.netty.ProtocolMDCContextFactory;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.smtp.tls.ServerTls;
import org.postilion.smtp.tls.TlsSettings;

/**
 * A James protocol server whose sessions run on a worker group of its own. James 3.8.1 runs the
 * protocol handler, and so every hook, on the Netty I/O event loop, where the spool write of the
 * message hook would stall every connection of that loop; here the I/O loop only moves bytes,
 * encrypts and counts connections.
 *
 * <p>The pipeline, from the socket: [TLS] gate, framer*, deadline*, reply delay*, session* (*: on
 * the session's worker thread, all the same one, so they share the session's state without locks).
 */
final class ListenerServer extends AbstractAsyncServer {
  private final Supplier<SmtpTrace> trace;
  private final Protocol protocol;
  private final ListenerSettings settings;
  private final Refusals refusals;
  private final ServerTls tls;
  private final ConnectionGate gate;
  private final EventExecutorGroup workers;

  ListenerServer(
      Protocol protocol,
      ListenerSettings settings,
      Refusals refusals,
      ServerTls tls,
      EventExecutorGroup workers,
      Supplier<SmtpTrace> trace) {
    this.trace = trace;
    this.protocol = protocol;
    this.settings = settings;
    this.refusals = refusals;
    this.tls = tls;
    this.gate = new ConnectionGate(settings, refusals);
    this.workers = workers;
    this.jmxName = "postilion-smtp-" + settings.name();
  }

  static EventExecutorGroup workerGroup(String name, int threads) {
    AtomicInteger number = new AtomicInteger();
    return new DefaultEventExecutorGroup(
        threads,
        task -> {
          // Netty keeps its per-thread state (buffer caches, recyclers) in a field of its own
          // threads: on a plain thread each lookup is a ThreadLocal search, several per line read.
          Thread thread =
              new FastThreadLocalThread(
                  task, "postilion-smtp-" + name + "-" + number.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
  }

  @Override
  protected ChannelInitializer<SocketChannel> createPipelineFactory() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        Encryption startTls = null;
        if (tls != null && tls.mode() == TlsSettings.Mode.IMPLICIT) {
          pipeline.addLast(HandlerConstants.SSL_HANDLER, tls.encryption().sslHandler());
        } else if (tls != null) {
          startTls = tls.encryption();
        }
        pipeline.addLast("postilion-trace", new TraceHandler(settings.name(), trace));
        pipeline.addLast("postilion-gate", gate);
        pipeline.addLast(
            workers,
            HandlerConstants.FRAMER,
            new SmtpFrameDecoder(settings.maxLineLength(), settings.hostname(), refusals));
        pipeline.addLast(
            workers,
            "postilion-deadline",
            new SessionDeadline(
                settings.commandTimeout(), settings.dataTimeout(), settings.hostname(), refusals));
        pipeline.addLast(workers, "postilion-reply-delay", new ReplyDelay());
        pipeline.addLast(
            workers, HandlerConstants.CORE_HANDLER, new SessionHandler(protocol, startTls));
      }
    };
  }

  /** James's session handler with a transport that switches to TLS safely. */
  private static final class SessionHandler extends BasicChannelInboundHandler {
    SessionHandler(Protocol protocol, Encryption startTls) {
      super(new ProtocolMDCContextFactory.Standard(), protocol, startTls, false);
    }

    @Override
    protected ProtocolSession createSession(ChannelHandlerContext ctx) {
      return protocol.newSession(new StartTlsTransport(ctx.channel(), secure));
    }
  }

  int openConnections() {
    return gate.openConnections();
  }

  @Override
  public synchronized void unbind() {
    try {
      gate.closeAll(Duration.ofSeconds(5));
      super.unbind();
    } finally {
      workers.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    }
  }
}
