package org.postilion.smtp.listener;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.netty.HandlerConstants;
import org.apache.james.protocols.netty.NettyProtocolTransport;

/**
 * Switches to TLS after the 220 to STARTTLS without a race. James writes the 220 and then adds the
 * TLS handler; with sessions on worker threads the client's ClientHello can arrive in between and
 * be read as plain text, stalling the handshake. Here the handler is in place first and lets
 * exactly one write, the 220, out unencrypted (Netty's startTls mode).
 */
final class StartTlsTransport extends NettyProtocolTransport {
  private final Channel channel;
  private final Encryption encryption;

  StartTlsTransport(Channel channel, Encryption encryption) {
    super(channel, encryption, false);
    this.channel = channel;
    this.encryption = encryption;
  }

  @Override
  protected void writeToClient(byte[] bytes, ProtocolSession session, boolean startTls) {
    if (!startTls) {
      super.writeToClient(bytes, session, false);
      return;
    }
    SslHandler tls = new SslHandler(encryption.sslHandler().engine(), true);
    channel.pipeline().addFirst(HandlerConstants.SSL_HANDLER, tls);
    channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
  }
}
