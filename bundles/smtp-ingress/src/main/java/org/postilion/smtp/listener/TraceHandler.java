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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a session's transcript for {@code mta:trace-smtp-server}; reads and writes pass through
 * untouched. Sits just above TLS, so it sees plain text. Only sessions that began while someone
 * watched are traced: their state (in DATA, in a BDAT chunk, answering a 334) is then known from
 * the first byte, so message data is shown as its size and credentials never, even if the watcher
 * comes and goes. Commands and replies are shown a line at a time, cut at {@link #MAX_LINE}
 * characters; a line split over several reads is put together first (up to {@link #MAX_PARTIAL}).
 */
final class TraceHandler extends ChannelDuplexHandler {
  private static final Logger LOG = LoggerFactory.getLogger(TraceHandler.class);
  static final int MAX_LINE = 200;
  static final int MAX_PARTIAL = 2048;
  private static final int MAX_LINES_PER_READ = 50;
  private static final byte[] END_OF_DATA = {'\r', '\n', '.', '\r', '\n'};

  private final String listener;
  private final Supplier<SmtpTrace> trace;

  /** Whether someone watched when the session began: only then is it traced. */
  private boolean traced;

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

  /** The start of a command line whose end has not arrived yet. */
  private final StringBuilder partial = new StringBuilder();

  TraceHandler(String listener, Supplier<SmtpTrace> trace) {
    this.listener = listener;
    this.trace = trace;
  }

  private SmtpTrace watching() {
    SmtpTrace current = trace.get();
    return current != null && current.watching(TraceEvent.Side.SERVER) ? current : null;
  }

  /** Publishes when someone watches now; the line is built only then. */
  private void publish(ChannelHandlerContext ctx, Kind kind, String text) {
    SmtpTrace to = watching();
    if (to == null) {
      return;
    }
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
    traced = watching() != null;
    if (traced) {
      quietly(
          () ->
              publish(
                  ctx, Kind.CONNECTED, "Connected " + Instant.now() + " to listener " + listener));
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (traced) {
      quietly(() -> publish(ctx, Kind.CLOSED, "Closed " + Instant.now()));
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (traced && msg instanceof ByteBuf buf) {
      quietly(() -> read(ctx, buf));
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (traced && msg instanceof ByteBuf buf) {
      quietly(() -> written(ctx, buf));
    }
    super.write(ctx, msg, promise);
  }

  /** Tracing must never cost the session its bytes: a failure stops tracing this session. */
  private void quietly(Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      traced = false;
      LOG.warn("Tracing a session of listener {} failed; it is no longer traced", listener, e);
    }
  }

  private void written(ChannelHandlerContext ctx, ByteBuf buf) {
    String text = buf.toString(buf.readerIndex(), buf.readableBytes(), StandardCharsets.UTF_8);
    for (String line : text.split("\r?\n")) {
      if (line.isEmpty()) {
        continue;
      }
      publish(ctx, Kind.FROM_SERVER, cut(line));
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

  /** Reads without moving the buffer's reader index: the session reads it next. */
  private void read(ChannelHandlerContext ctx, ByteBuf buf) {
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
          publish(ctx, Kind.DATA, "(" + dataBytes + " bytes of BDAT data)");
        }
      } else if (inData) {
        int stop = endOfData(buf, at, end);
        dataBytes += (stop < 0 ? end : stop) - at;
        if (stop < 0) {
          at = end;
        } else {
          inData = false;
          // The count leaves the end marker's ".\r\n" out.
          publish(ctx, Kind.DATA, "(" + Math.max(0, dataBytes - 3) + " bytes of message data)");
          at = stop;
        }
      } else {
        int newline = buf.indexOf(at, end, (byte) '\n');
        int lineEnd = newline < 0 ? end : newline;
        int room = MAX_PARTIAL - partial.length();
        partial.append(
            buf.toString(at, Math.min(lineEnd - at, Math.max(0, room)), StandardCharsets.UTF_8));
        at = newline < 0 ? end : newline + 1;
        if (newline < 0) {
          break; // the rest of the line comes in a later read
        }
        String line = partial.toString().replace("\r", "");
        partial.setLength(0);
        command(ctx, line, ++lines <= MAX_LINES_PER_READ);
      }
    }
    if (lines > MAX_LINES_PER_READ) {
      publish(ctx, Kind.FROM_CLIENT, "(" + (lines - MAX_LINES_PER_READ) + " more lines)");
    }
  }

  /** One whole command line: its effect on the session's state, and shown when {@code show}. */
  private void command(ChannelHandlerContext ctx, String line, boolean show) {
    String shown = mask(line);
    if (show) {
      publish(ctx, Kind.FROM_CLIENT, shown);
    }
    String upper = line.toUpperCase(Locale.ROOT);
    if (upper.startsWith("BDAT ")) {
      String[] words = upper.trim().split("\\s+");
      try {
        chunkLeft = Math.max(0, Long.parseLong(words[1]));
        dataBytes = 0;
      } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
        chunkLeft = 0; // the session answers the bad command; the trace shows it as read
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
