package org.postilion.delivery.lmtp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.wire.DotStuffingOutput;
import org.postilion.api.delivery.wire.Reply;

/**
 * An LMTP connection (RFC 2033) kept for several transactions: the greeting and LHLO once, then per
 * message MAIL, one RCPT per recipient and DATA, pipelined when the server offers PIPELINING, and
 * one reply per accepted recipient after the final dot. A transaction the server refused is reset
 * (RSET) and the connection kept; one cut short by an I/O failure leaves the connection unusable.
 * Every read and write has a deadline, enforced by closing the connection, since a Unix socket
 * channel has no read timeout of its own.
 */
final class LmtpSession implements Closeable {
  private final LmtpTarget target;
  private final LmtpProtocol.Settings settings;
  private final ScheduledExecutorService watchdog;
  private volatile Closeable connection;
  private InputStream in;
  private OutputStream out;
  private PeerAddress peer;
  private boolean pipelining;
  private volatile boolean broken;
  private volatile boolean closed;

  LmtpSession(
      LmtpTarget target, LmtpProtocol.Settings settings, ScheduledExecutorService watchdog) {
    this.target = target;
    this.settings = settings;
    this.watchdog = watchdog;
  }

  /** Connects, reads the greeting and says LHLO. */
  void open() throws IOException {
    try {
      connect();
      expect(within(settings.commandTimeout(), this::readReply), 220, "greeting");
      send("LHLO " + settings.lhloName());
      Reply lhlo = within(settings.commandTimeout(), this::readReply);
      expect(lhlo, 250, "LHLO");
      pipelining = lhlo.lines().stream().anyMatch(l -> l.equalsIgnoreCase("PIPELINING"));
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  /** Whether another transaction can follow on this connection. */
  boolean usable() {
    return !broken && !closed;
  }

  /** The transient failure an I/O error is for every recipient. */
  Response failure(IOException e) {
    return transientFailure(describe(e));
  }

  private Response transientFailure(String why) {
    return Response.of(451, "4.4.2", "LMTP " + target + ": " + why);
  }

  /**
   * Delivers the message; every recipient gets a result, except when the connection failed before
   * the server answered anything of this transaction: then {@link Unanswered}, as a server that
   * dropped a kept connection causes.
   */
  DeliveryResult deliver(DeliveryRequest request) throws Unanswered {
    List<String> recipients = request.recipients();
    List<RecipientResult> results = new ArrayList<>();
    boolean answered = false;
    try {
      List<String> commands = new ArrayList<>();
      commands.add("MAIL FROM:<" + request.sender() + ">");
      recipients.forEach(r -> commands.add("RCPT TO:<" + r + ">"));
      commands.add("DATA");
      List<Reply> replies = new ArrayList<>();
      if (pipelining) {
        send(String.join("\r\n", commands));
        for (int i = 0; i < commands.size(); i++) {
          replies.add(within(settings.commandTimeout(), this::readReply));
          answered = true;
        }
      } else {
        for (String command : commands) {
          send(command);
          Reply reply = within(settings.commandTimeout(), this::readReply);
          answered = true;
          replies.add(reply);
          if (replies.size() == 1 && !reply.isPositive()) {
            break; // MAIL refused: no RCPT or DATA can follow
          }
        }
      }

      Reply mail = replies.get(0);
      if (!mail.isPositive()) {
        results.addAll(forEach(recipients, mail.toResponse().to(commands.get(0) + "\r\n")));
        reset();
        return result(results);
      }
      List<String> accepted = new ArrayList<>();
      for (int i = 0; i < recipients.size(); i++) {
        Reply rcpt = i + 1 < replies.size() ? replies.get(i + 1) : null;
        if (rcpt == null) {
          results.add(transientFor(recipients.get(i), "no RCPT reply"));
        } else if (rcpt.isPositive()) {
          accepted.add(recipients.get(i));
        } else {
          results.add(
              outcome(recipients.get(i), rcpt.toResponse().to(commands.get(i + 1) + "\r\n")));
        }
      }
      Reply data = replies.size() == commands.size() ? replies.get(commands.size() - 1) : null;
      if (accepted.isEmpty() || data == null || data.code() != 354) {
        if (!accepted.isEmpty()) {
          Response refused =
              data == null
                  ? Response.of(451, "4.4.0", "DATA not attempted")
                  : data.toResponse().to("DATA\r\n");
          accepted.forEach(r -> results.add(outcome(r, refused)));
        }
        if (data != null && data.code() == 354) {
          // Every RCPT refused, DATA accepted all the same (pipelined): an empty message ends it.
          within(settings.dataTimeout(), this::sendEmptyContent);
        }
        reset();
        return result(results);
      }

      within(settings.dataTimeout(), () -> sendContent(request));
      // RFC 2033 4.2: one reply per accepted recipient, in RCPT order, after the final dot.
      for (int i = 0; i < accepted.size(); i++) {
        Reply reply;
        try {
          reply = within(settings.dataTimeout(), this::readReply);
        } catch (IOException e) {
          broken = true;
          close();
          for (String unanswered : accepted.subList(i, accepted.size())) {
            results.add(transientFor(unanswered, describe(e)));
          }
          return result(results);
        }
        results.add(outcome(accepted.get(i), reply.toResponse().to(".\r\n")));
      }
      return result(results);
    } catch (IOException e) {
      broken = true;
      close();
      if (!answered) {
        throw new Unanswered(e);
      }
      List<String> known = results.stream().map(RecipientResult::recipient).toList();
      for (String recipient : recipients) {
        if (!known.contains(recipient)) {
          results.add(transientFor(recipient, describe(e)));
        }
      }
      return result(results);
    }
  }

  /** The connection failed before the server answered anything of the transaction. */
  static final class Unanswered extends Exception {
    private static final long serialVersionUID = 1L;

    Unanswered(IOException cause) {
      super(cause);
    }

    @Override
    public synchronized IOException getCause() {
      return (IOException) super.getCause();
    }
  }

  /** Ends the connection: QUIT when it is still in order, then close. */
  void quitAndClose() {
    if (usable()) {
      try {
        send("QUIT");
        within(settings.commandTimeout(), this::readReply);
      } catch (IOException e) {
        // Nothing is under way; a server that hangs up first is fine.
      }
    }
    close();
  }

  /** After a refused transaction: the next one starts afresh on the same connection. */
  private void reset() {
    try {
      send("RSET");
      if (!within(settings.commandTimeout(), this::readReply).isPositive()) {
        broken = true;
      }
    } catch (IOException e) {
      broken = true;
      close();
    }
  }

  private DeliveryResult result(List<RecipientResult> results) {
    return new DeliveryResult(results, peer);
  }

  /** An abort that came before the connection existed closes it now. */
  private void abortedMeanwhile() throws IOException {
    if (closed) {
      close();
      throw new IOException("the session was aborted");
    }
  }

  private void connect() throws IOException {
    if (target.socket() != null) {
      SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      connection = channel;
      abortedMeanwhile();
      within(
          settings.connectTimeout(),
          () -> {
            channel.connect(UnixDomainSocketAddress.of(target.socket()));
            return null;
          });
      in = new BufferedInputStream(Channels.newInputStream(channel));
      out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
      peer = new PeerAddress(target.socket().toString(), null);
      return;
    }
    Socket socket = new Socket();
    connection = socket;
    abortedMeanwhile();
    InetSocketAddress address = new InetSocketAddress(target.host(), target.port());
    if (address.isUnresolved()) {
      throw new IOException("cannot resolve " + target.host());
    }
    socket.connect(address, (int) settings.connectTimeout().toMillis());
    in = new BufferedInputStream(socket.getInputStream());
    out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    peer = new PeerAddress(target.host(), address.getAddress().getHostAddress());
  }

  private Reply readReply() throws IOException {
    return Reply.read(in);
  }

  private void send(String lines) throws IOException {
    within(
        settings.commandTimeout(),
        () -> {
          out.write((lines + "\r\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          return null;
        });
  }

  private Void sendEmptyContent() throws IOException {
    out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return null;
  }

  private Void sendContent(DeliveryRequest request) throws IOException {
    DotStuffingOutput data = new DotStuffingOutput(out);
    try (InputStream content = request.content().open()) {
      content.transferTo(data);
    }
    data.finish();
    out.flush();
    return null;
  }

  /** Runs an I/O step, closing the connection (which ends the step) when it overruns. */
  private <T> T within(Duration timeout, IoStep<T> step) throws IOException {
    AtomicBoolean fired = new AtomicBoolean();
    ScheduledFuture<?> alarm =
        watchdog.schedule(
            () -> {
              fired.set(true); // before closing, so the failing step sees why
              close();
            },
            timeout.toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      return step.run();
    } catch (IOException e) {
      if (fired.get()) {
        throw new IOException("no answer within " + timeout.toSeconds() + " s", e);
      }
      throw e;
    } finally {
      alarm.cancel(false);
    }
  }

  private static void expect(Reply reply, int code, String step) throws IOException {
    if (reply.code() != code) {
      throw new IOException(step + " refused: " + reply.code() + " " + reply.text());
    }
  }

  private static List<RecipientResult> forEach(List<String> recipients, Response response) {
    return recipients.stream().map(r -> outcome(r, response)).toList();
  }

  private static RecipientResult outcome(String recipient, Response response) {
    Disposition disposition =
        response.code() >= 200 && response.code() < 300
            ? Disposition.DELIVERED
            : response.code() >= 500
                ? Disposition.PERMANENT_FAILURE
                : Disposition.TRANSIENT_FAILURE;
    return new RecipientResult(recipient, disposition, response);
  }

  private RecipientResult transientFor(String recipient, String why) {
    return new RecipientResult(recipient, Disposition.TRANSIENT_FAILURE, transientFailure(why));
  }

  private static String describe(IOException e) {
    if (e instanceof EOFException) {
      return "the server closed the connection";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  @Override
  public void close() {
    closed = true;
    // Also when called again: an abort may have come before the connection existed.
    Closeable open = connection;
    if (open != null) {
      try {
        open.close();
      } catch (IOException e) {
        // Closing a broken connection may fail; it is gone either way.
      }
    }
  }

  @FunctionalInterface
  private interface IoStep<T> {
    T run() throws IOException;
  }
}
