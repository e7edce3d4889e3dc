package org.postilion.delivery.smtp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.wire.DotStuffingOutput;
import org.postilion.api.delivery.wire.Reply;

/**
 * One SMTP client connection to one host, used for one message at a time by the thread that owns
 * it. Every read has a deadline; a reply that is not SMTP, a closed connection or a timeout is a
 * {@link ConnectionLost}, after which the connection is not used again.
 */
final class SmtpConnection implements AutoCloseable {
  private static final String[] TLS_PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  /** The connection can no longer be used; the attempt failed with {@link #response()}. */
  static final class ConnectionLost extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Response response;

    /** True when nothing of the current transaction had been sent: it may be tried elsewhere. */
    private final boolean beforeTransaction;

    ConnectionLost(Response response, boolean beforeTransaction, Throwable cause) {
      super(response.toString(), cause);
      this.response = response;
      this.beforeTransaction = beforeTransaction;
    }

    Response response() {
      return response;
    }

    boolean beforeTransaction() {
      return beforeTransaction;
    }
  }

  /** Timeouts: connecting, each command, and the reply after the final dot. */
  record Timeouts(Duration connect, Duration command, Duration dataDone) {}

  private final Socket plain;
  private ClientTrace trace = ClientTrace.NONE;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private final PeerAddress peer;
  private final Timeouts timeouts;
  private Set<String> keywords = Set.of();
  private long maxSize;
  private String tlsProtocol;
  private String tlsCipher;
  private List<String> tlsPeerSubject;
  private int transactions;

  private SmtpConnection(Socket socket, PeerAddress peer, Timeouts timeouts) throws IOException {
    this.plain = socket;
    this.peer = peer;
    this.timeouts = timeouts;
    useSocket(socket);
  }

  private void useSocket(Socket newSocket) throws IOException {
    socket = newSocket;
    in = new BufferedInputStream(newSocket.getInputStream(), 8192);
    out = new BufferedOutputStream(newSocket.getOutputStream(), 65536);
  }

  /**
   * Connects, reads the greeting, says EHLO (HELO when EHLO is refused) and starts TLS as {@code
   * tls} asks.
   *
   * @param localAddress the local address to connect from (the egress source's); {@code null} for
   *     the system's choice
   * @throws DeliveryFailure when this host will not take mail now; the next host may
   */
  static SmtpConnection open(
      String hostName,
      InetAddress address,
      int port,
      InetAddress localAddress,
      String ehloName,
      TlsMode tls,
      TlsContexts contexts,
      Timeouts timeouts,
      ClientTrace trace)
      throws DeliveryFailure {
    PeerAddress peer = new PeerAddress(hostName, address.getHostAddress());
    Socket socket = new Socket();
    SmtpConnection connection = null;
    try {
      if (localAddress != null) {
        bind(socket, localAddress);
      }
      socket.connect(new InetSocketAddress(address, port), (int) timeouts.connect().toMillis());
      socket.setTcpNoDelay(true);
      connection = new SmtpConnection(socket, peer, timeouts);
      connection.trace = trace;
      trace.connected(socket);
      Reply greeting = connection.read(timeouts.command(), true);
      if (greeting.code() != 220) {
        throw new DeliveryFailure(
            Response.of(
                451,
                "4.4.0",
                "greeting of " + peer + " was: " + greeting.code() + " " + greeting.text()));
      }
      connection.hello(ehloName);
      if (tls != TlsMode.DISABLED) {
        if (connection.keywords.contains("STARTTLS")) {
          connection.startTls(hostName, tls, contexts, ehloName);
        } else if (tls.required) {
          throw new DeliveryFailure(
              Response.of(
                  451,
                  "4.7.10",
                  peer
                      + " does not offer STARTTLS and smtp.tls="
                      + tls.name().toLowerCase(Locale.ROOT)));
        }
      }
      return connection;
    } catch (ConnectionLost e) {
      closeQuietly(socket);
      throw new DeliveryFailure(e.response(), e);
    } catch (DeliveryFailure e) {
      if (connection != null) {
        connection.close();
      } else {
        closeQuietly(socket);
      }
      throw e;
    } catch (IOException e) {
      closeQuietly(socket);
      throw new DeliveryFailure(
          Response.of(
              451, "4.4.1", "cannot connect to " + peer + " port " + port + ": " + e.getMessage()),
          e);
    }
  }

  /** Binds before connecting, so the receiver sees the egress source's address. */
  private static void bind(Socket socket, InetAddress localAddress) throws DeliveryFailure {
    try {
      socket.bind(new InetSocketAddress(localAddress, 0));
    } catch (IOException e) {
      throw new DeliveryFailure(
          Response.of(
              451,
              "4.4.0",
              "cannot use source address " + localAddress.getHostAddress() + ": " + e.getMessage()),
          e);
    }
  }

  private void hello(String ehloName) throws ConnectionLost, DeliveryFailure {
    Reply ehlo = command("EHLO " + ehloName, timeouts.command(), true);
    if (ehlo.code() == 250) {
      Set<String> found = new HashSet<>();
      long size = 0;
      for (String line : ehlo.lines().subList(1, ehlo.lines().size())) {
        String[] words = line.trim().split("\\s+");
        String keyword = words[0].toUpperCase(Locale.ROOT);
        found.add(keyword);
        if (keyword.equals("SIZE") && words.length > 1) {
          try {
            size = Long.parseLong(words[1]);
          } catch (NumberFormatException e) {
            size = 0;
          }
        }
      }
      keywords = found;
      maxSize = size;
      return;
    }
    Reply helo = command("HELO " + ehloName, timeouts.command(), true);
    if (helo.code() != 250) {
      throw new DeliveryFailure(
          Response.of(
              451, "4.4.0", peer + " refused EHLO and HELO: " + helo.code() + " " + helo.text()));
    }
    keywords = Set.of();
    maxSize = 0;
  }

  private void startTls(String hostName, TlsMode tls, TlsContexts contexts, String ehloName)
      throws ConnectionLost, DeliveryFailure {
    Reply reply = command("STARTTLS", timeouts.command(), true);
    if (reply.code() != 220) {
      if (tls.required) {
        throw new DeliveryFailure(
            Response.of(
                451, "4.7.10", peer + " refused STARTTLS: " + reply.code() + " " + reply.text()));
      }
      return;
    }
    try {
      SSLContext context = tls.verify ? contexts.verifying() : contexts.trustingAll();
      SSLSocket ssl =
          (SSLSocket)
              context.getSocketFactory().createSocket(plain, hostName, plain.getPort(), true);
      SSLParameters parameters = ssl.getSSLParameters();
      parameters.setProtocols(TLS_PROTOCOLS);
      if (tls.verify) {
        // Check the certificate names the MX host, as HTTPS checks a web server's.
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
      }
      ssl.setSSLParameters(parameters);
      ssl.setSoTimeout((int) timeouts.command().toMillis());
      ssl.startHandshake();
      tlsProtocol = ssl.getSession().getProtocol();
      tlsCipher = ssl.getSession().getCipherSuite();
      tlsPeerSubject = SessionFacts.peerSubject(ssl.getSession());
      useSocket(ssl);
    } catch (IOException e) {
      throw new DeliveryFailure(
          Response.of(451, "4.7.5", "TLS with " + peer + " failed: " + e.getMessage()), e);
    }
    // RFC 3207: forget what the server said before TLS and ask again.
    hello(ehloName);
  }

  /** True when the server supports {@code keyword} in its EHLO reply. */
  boolean supports(String keyword) {
    return keywords.contains(keyword);
  }

  PeerAddress peer() {
    return peer;
  }

  String tlsProtocol() {
    return tlsProtocol;
  }

  String tlsCipher() {
    return tlsCipher;
  }

  List<String> tlsPeerSubject() {
    return tlsPeerSubject;
  }

  /** The local address and port the connection left from. */
  String sourceAddress() {
    return SessionFacts.address(plain.getLocalSocketAddress());
  }

  int transactions() {
    return transactions;
  }

  /**
   * Runs one mail transaction for all recipients of the request.
   *
   * @throws ConnectionLost when the connection broke; the results of this attempt are unknown
   */
  List<RecipientResult> send(DeliveryRequest request, MessageBytes content) throws ConnectionLost {
    trace.transaction(request.recipients());
    try {
      return transaction(request, content);
    } finally {
      trace.transaction(null);
    }
  }

  private List<RecipientResult> transaction(DeliveryRequest request, MessageBytes content)
      throws ConnectionLost {
    boolean eightBit = content.eightBit();
    transactions++;
    long size = request.content().size();
    List<String> recipients = request.recipients();
    if (maxSize > 0 && size > maxSize) {
      return all(
          recipients,
          Response.of(
              552,
              "5.3.4",
              "message of "
                  + size
                  + " bytes exceeds the "
                  + maxSize
                  + " bytes "
                  + peer
                  + " accepts"));
    }
    if (eightBit && !supports("8BITMIME")) {
      return all(
          recipients,
          Response.of(554, "5.6.3", peer + " does not accept 8-bit content (no 8BITMIME)"));
    }
    String mail =
        "MAIL FROM:<"
            + request.sender()
            + ">"
            + (supports("SIZE") ? " SIZE=" + size : "")
            + (eightBit ? " BODY=8BITMIME" : "");
    boolean pipelining = supports("PIPELINING");
    Reply mailReply;
    List<Reply> rcptReplies = new ArrayList<>();
    Reply dataReply = null;
    if (pipelining) {
      writeLine(mail, true);
      for (String recipient : recipients) {
        writeLine("RCPT TO:<" + recipient + ">", false);
      }
      writeLine("DATA", false);
      flush(true);
      mailReply = read(timeouts.command(), true);
      for (int i = 0; i < recipients.size(); i++) {
        rcptReplies.add(read(timeouts.command(), false));
      }
      dataReply = read(timeouts.command(), false);
    } else {
      mailReply = command(mail, timeouts.command(), true);
      if (mailReply.isPositive()) {
        for (String recipient : recipients) {
          rcptReplies.add(command("RCPT TO:<" + recipient + ">", timeouts.command(), false));
        }
      }
    }
    if (!mailReply.isPositive()) {
      reset();
      return all(recipients, mailReply.toResponse().to(mail + "\r\n"));
    }
    List<RecipientResult> results = new ArrayList<>();
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < recipients.size(); i++) {
      Reply reply = rcptReplies.get(i);
      if (reply.isPositive()) {
        accepted.add(recipients.get(i));
      } else {
        results.add(
            result(
                recipients.get(i),
                reply.toResponse().to("RCPT TO:<" + recipients.get(i) + ">\r\n")));
      }
    }
    if (accepted.isEmpty()) {
      reset();
      return results;
    }
    if (dataReply == null) {
      dataReply = command("DATA", timeouts.command(), false);
    }
    if (dataReply.code() != 354) {
      reset();
      Response refused = dataReply.toResponse().to("DATA\r\n");
      accepted.forEach(r -> results.add(result(r, refused)));
      return results;
    }
    Reply done = sendContent(content);
    Response response = done.toResponse().to(".\r\n");
    accepted.forEach(r -> results.add(result(r, response)));
    return results;
  }

  private Reply sendContent(MessageBytes content) throws ConnectionLost {
    try (InputStream in = content.open()) {
      DotStuffingOutput stuffing = new DotStuffingOutput(out);
      long bytes = in.transferTo(stuffing);
      stuffing.finish();
      out.flush();
      trace.data(bytes);
    } catch (IOException e) {
      throw lost("sending the message to " + peer + " failed: " + e.getMessage(), false, e);
    }
    return read(timeouts.dataDone(), false);
  }

  /** Ends the transaction after a refusal so the connection can carry the next one. */
  private void reset() throws ConnectionLost {
    command("RSET", timeouts.command(), false);
  }

  /** Says QUIT and closes; errors no longer matter at that point. */
  void quit() {
    try {
      writeLine("QUIT", false);
      flush(false);
      read(Duration.ofSeconds(5), false);
    } catch (ConnectionLost e) {
      // The server may close first; the connection is going anyway.
    }
    close();
  }

  @Override
  public void close() {
    closeQuietly(socket);
    closeQuietly(plain);
    trace.closed();
  }

  /**
   * From another thread: resets the TCP connection under TLS too. Closing the SSLSocket here could
   * wait without end for the lock a delivery blocked on a full send buffer holds; closing the plain
   * socket fails that delivery's read or write at once.
   */
  void abort() {
    try {
      plain.setSoLinger(true, 0);
    } catch (IOException e) {
      // Closed already: nothing left to reset.
    }
    closeQuietly(plain);
  }

  private static List<RecipientResult> all(List<String> recipients, Response response) {
    return recipients.stream().map(r -> result(r, response)).toList();
  }

  private static RecipientResult result(String recipient, Response response) {
    Disposition disposition =
        response.code() >= 200 && response.code() < 300
            ? Disposition.DELIVERED
            : response.isPermanentFailure()
                ? Disposition.PERMANENT_FAILURE
                : Disposition.TRANSIENT_FAILURE;
    return new RecipientResult(recipient, disposition, response);
  }

  private Reply command(String line, Duration timeout, boolean beforeTransaction)
      throws ConnectionLost {
    writeLine(line, beforeTransaction);
    flush(beforeTransaction);
    return read(timeout, beforeTransaction);
  }

  private void writeLine(String line, boolean beforeTransaction) throws ConnectionLost {
    trace.sent(line);
    try {
      out.write(line.getBytes(StandardCharsets.UTF_8));
      out.write('\r');
      out.write('\n');
    } catch (IOException e) {
      throw lost("writing to " + peer + " failed: " + e.getMessage(), beforeTransaction, e);
    }
  }

  private void flush(boolean beforeTransaction) throws ConnectionLost {
    try {
      out.flush();
    } catch (IOException e) {
      throw lost("writing to " + peer + " failed: " + e.getMessage(), beforeTransaction, e);
    }
  }

  /** Reads one reply, all its lines; anything but a well-formed SMTP reply loses the connection. */
  private Reply read(Duration timeout, boolean beforeTransaction) throws ConnectionLost {
    try {
      socket.setSoTimeout((int) timeout.toMillis());
      Reply reply = Reply.read(in);
      trace.received(reply);
      return reply;
    } catch (SocketTimeoutException e) {
      throw lost(
          "no reply from " + peer + " within " + timeout.toSeconds() + " s", beforeTransaction, e);
    } catch (EOFException e) {
      throw lost(peer + " closed the connection", beforeTransaction, null);
    } catch (Reply.MalformedReplyException e) {
      throw lost(e.getMessage() + " from " + peer, beforeTransaction, null);
    } catch (IOException e) {
      throw lost("reading from " + peer + " failed: " + e.getMessage(), beforeTransaction, e);
    }
  }

  private ConnectionLost lost(String text, boolean beforeTransaction, Throwable cause) {
    return new ConnectionLost(Response.of(451, "4.4.2", text), beforeTransaction, cause);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Closing a broken connection may fail; it is gone either way.
    }
  }
}
