package org.postilion.smtp.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Supplier;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.api.trace.TraceEvent;
import org.postilion.api.trace.TraceEvent.Kind;

/**
 * Publishes a session's transcript for {@code mta:trace-smtp-server} while someone watches; reads
 * and writes pass through untouched. Sits just above TLS, so it sees plain text. Commands and
 * replies are shown a line at a time (cut at {@link #MAX_LINE} characters), message data as its
 * size, and credentials never: AUTH's arguments and the lines answering a 334 are masked.
 */
final class TraceHandler extends ChannelDuplexHandler {
  static final int MAX_LINE = 200;
  private static final byte[] END_OF_DATA = {'\r', '\n', '.', '\r', '\n'};

  private final String listener;
  private final Supplier<SmtpTrace> trace;
  private String session;
  private String client;

  /** Bytes of a BDAT chunk still to come. */
  private long chunkLeft;

  private boolean inData;
  private long dataBytes;

  /** The last bytes of DATA seen, to find an end marker split across reads. */
  private final byte[] tail = new byte[4];

  private int tailLength;
  private boolean maskNext;

  TraceHandler(String listener, Supplier<SmtpTrace> trace) {
    this.listener = listener;
    this.trace = trace;
  }

  private SmtpTrace watching() {
    SmtpTrace current = trace.get();
    return current != null && current.watching(TraceEvent.Side.SERVER) ? current : null;
  }

  private void publish(SmtpTrace to, ChannelHandlerContext ctx, Kind kind, String text) {
    if (session == null) {
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
      client = remote == null ? "" : remote.getAddress().getHostAddress();
      session =
          (remote == null ? "?" : client + ":" + remote.getPort())
              + "->"
              + (local == null ? "?" : local.getAddress().getHostAddress() + ":" + local.getPort());
    }
    to.publish(
        new TraceEvent(
            Instant.now(),
            TraceEvent.Side.SERVER,
            session,
            kind,
            text,
            TraceEvent.Context.server(listener, client)));
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    SmtpTrace to = watching();
    if (to != null) {
      publish(to, ctx, Kind.CONNECTED, "Connected " + Instant.now() + " to listener " + listener);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    SmtpTrace to = watching();
    if (to != null) {
      publish(to, ctx, Kind.CLOSED, "Closed " + Instant.now());
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    SmtpTrace to = watching();
    if (to != null && msg instanceof ByteBuf buf) {
      read(to, ctx, buf);
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    SmtpTrace to = watching();
    if (to != null && msg instanceof ByteBuf buf) {
      String text = buf.toString(buf.readerIndex(), buf.readableBytes(), StandardCharsets.UTF_8);
      for (String line : text.split("\r?\n")) {
        if (!line.isEmpty()) {
          publish(to, ctx, Kind.FROM_SERVER, cut(line));
          maskNext = line.startsWith("334");
          if (line.startsWith("354")) {
            inData = true;
            dataBytes = 0;
            // The DATA command's CRLF comes before the data: ".\r\n" alone ends it.
            tail[0] = '\r';
            tail[1] = '\n';
            tailLength = 2;
          }
        }
      }
    }
    super.write(ctx, msg, promise);
  }

  /** Reads without moving the buffer's reader index: the session reads it next. */
  private void read(SmtpTrace to, ChannelHandlerContext ctx, ByteBuf buf) {
    int at = buf.readerIndex();
    int end = buf.writerIndex();
    int lines = 0;
    while (at < end) {
      if (chunkLeft > 0) {
        int taken = (int) Math.min(chunkLeft, end - at);
        chunkLeft -= taken;
        dataBytes += taken;
        at += taken;
        if (chunkLeft == 0) {
          publish(to, ctx, Kind.DATA, "(" + dataBytes + " bytes of BDAT data)");
        }
      } else if (inData) {
        int stop = endOfData(buf, at, end);
        dataBytes += (stop < 0 ? end : stop) - at;
        if (stop < 0) {
          at = end;
        } else {
          inData = false;
          // The count leaves the end marker's ".\r\n" out.
          publish(to, ctx, Kind.DATA, "(" + Math.max(0, dataBytes - 3) + " bytes of message data)");
          at = stop;
        }
      } else {
        int newline = buf.indexOf(at, end, (byte) '\n');
        int lineEnd = newline < 0 ? end : newline;
        String line =
            buf.toString(at, Math.min(lineEnd - at, MAX_LINE * 4), StandardCharsets.UTF_8)
                .replace("\r", "");
        at = newline < 0 ? end : newline + 1;
        if (++lines > 50) {
          publish(to, ctx, Kind.FROM_CLIENT, "(" + (end - at) + " more bytes)");
          return;
        }
        publish(to, ctx, Kind.FROM_CLIENT, mask(line));
        String upper = line.toUpperCase(Locale.ROOT);
        if (upper.startsWith("BDAT ")) {
          String[] words = upper.trim().split("\\s+");
          try {
            chunkLeft = Long.parseLong(words[1]);
            dataBytes = 0;
          } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            chunkLeft = 0; // the session answers the bad command; the trace shows it as read
          }
        }
      }
    }
  }

  /** Where the DATA end marker ends in this read, or -1; one split across reads is found too. */
  private int endOfData(ByteBuf buf, int from, int end) {
    byte[] window = new byte[tailLength + (end - from)];
    System.arraycopy(tail, 0, window, 0, tailLength);
    buf.getBytes(from, window, tailLength, end - from);
    for (int i = 0; i + END_OF_DATA.length <= window.length; i++) {
      if (window[i] == '\r' && matches(window, i)) {
        return from + (i + END_OF_DATA.length - tailLength);
      }
    }
    int keep = Math.min(tail.length, window.length);
    System.arraycopy(window, window.length - keep, tail, 0, keep);
    tailLength = keep;
    return -1;
  }

  private static boolean matches(byte[] window, int at) {
    for (int i = 0; i < END_OF_DATA.length; i++) {
      if (window[at + i] != END_OF_DATA[i]) {
        return false;
      }
    }
    return true;
  }

  private String mask(String line) {
    if (maskNext) {
      maskNext = false;
      return "****";
    }
    String upper = line.toUpperCase(Locale.ROOT);
    if (upper.startsWith("AUTH ")) {
      String[] words = line.trim().split("\\s+");
      return words.length > 2 ? words[0] + " " + words[1] + " ****" : cut(line);
    }
    return cut(line);
  }

  private static String cut(String line) {
    return line.length() <= MAX_LINE ? line : line.substring(0, MAX_LINE) + "...";
  }
}
