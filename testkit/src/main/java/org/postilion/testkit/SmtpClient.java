package org.postilion.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A plain-socket SMTP client, so a test sees every reply exactly as a client would. */
public final class SmtpClient implements AutoCloseable {
  private Socket socket;
  private BufferedReader in;
  private OutputStream out;

  /** Connects from {@code localAddress} (any 127.x.y.z works on Linux loopback). */
  public SmtpClient(String localAddress, int port) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    use(socket);
  }

  /** Talks TLS from the first byte (an implicit TLS listener). */
  public SmtpClient(SSLContext tls, int port) throws IOException {
    use(tls.getSocketFactory().createSocket("127.0.0.1", port));
  }

  private void use(Socket next) throws IOException {
    socket = next;
    socket.setSoTimeout(30_000);
    in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
    out = socket.getOutputStream();
  }

  /** After the server's 220 to STARTTLS: the handshake, then everything goes through TLS. */
  public void startTls(SSLContext tls) throws IOException {
    SSLSocket secured =
        (SSLSocket)
            tls.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
    secured.startHandshake();
    use(secured);
  }

  /** How long to wait for a reply before giving up (30 s unless set). */
  public SmtpClient timeout(java.time.Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
    return this;
  }

  /** The raw output stream, for bytes that are not text. */
  public OutputStream output() {
    return out;
  }

  public SmtpClient(int port) throws IOException {
    this("127.0.0.1", port);
  }

  /** The next reply, continuation lines joined by newlines; null when the server closed. */
  public String reply() throws IOException {
    StringBuilder reply = new StringBuilder();
    String line;
    do {
      line = in.readLine();
      if (line == null) {
        return reply.length() == 0 ? null : reply.toString();
      }
      reply.append(reply.length() == 0 ? "" : "\n").append(line);
    } while (line.length() > 3 && line.charAt(3) == '-');
    return reply.toString();
  }

  public String send(String command) throws IOException {
    write(command + "\r\n");
    return reply();
  }

  public void write(String raw) throws IOException {
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /**
   * A whole transaction; returns the reply to the end of data. {@code content} uses CRLF and is
   * dot-stuffed here.
   */
  public String sendMessage(String from, String to, String content) throws IOException {
    expect("250", send("MAIL FROM:<" + from + ">"));
    expect("250", send("RCPT TO:<" + to + ">"));
    expect("354", send("DATA"));
    String stuffed = content.replace("\r\n.", "\r\n..");
    if (stuffed.startsWith(".")) {
      stuffed = "." + stuffed;
    }
    write(stuffed + (stuffed.endsWith("\r\n") ? "" : "\r\n") + ".\r\n");
    return reply();
  }

  /** Greeting and EHLO. */
  public SmtpClient hello() throws IOException {
    expect("220", reply());
    expect("250", send("EHLO itest.example"));
    return this;
  }

  private static void expect(String code, String reply) {
    if (reply == null || !reply.startsWith(code)) {
      throw new AssertionError("expected " + code + " but the server said: " + reply);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
