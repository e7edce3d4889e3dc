package org.postilion.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A real SMTP server on 127.0.0.1 for tests: it speaks ESMTP with PIPELINING, SIZE, 8BITMIME and
 * optionally STARTTLS, keeps every message it accepts byte for byte with the client's address and
 * EHLO name, counts connections, and can be told to answer a command with any reply, or to
 * misbehave.
 */
public final class TestSmtpServer implements AutoCloseable {

  /**
   * A message as the server received it: envelope and unstuffed content.
   *
   * @param client the address the client connected from; {@code null} when not known
   * @param ehlo the name the client gave in its last EHLO or HELO; {@code null} when it gave none
   */
  public record Received(
      String sender,
      List<String> recipients,
      byte[] content,
      boolean tls,
      InetAddress client,
      String ehlo) {

    public Received(String sender, List<String> recipients, byte[] content, boolean tls) {
      this(sender, recipients, content, tls, null, null);
    }

    public String text() {
      return new String(content, StandardCharsets.ISO_8859_1);
    }
  }

  /** How to misbehave instead of answering a command. */
  public enum Fault {
    /** Close the connection without a word. */
    DROP,
    /** Answer with bytes that are not an SMTP reply. */
    GARBAGE,
    /** Say nothing and keep the connection open until the client closes it. */
    SILENCE
  }

  private final ServerSocket server;
  private final SSLContext tls;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger mostOpen = new AtomicInteger();
  private volatile Function<String, String> replies = command -> null;
  private volatile Function<String, Fault> faults = command -> null;
  private volatile long maxSize;

  /** A plain server, or with STARTTLS when {@code tls} is given. */
  public TestSmtpServer(SSLContext tls) throws IOException {
    this.tls = tls;
    this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread acceptor = new Thread(this::accept, "test-smtp-server-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /**
   * Answers a command (upper-cased verb and argument, e.g. {@code RCPT TO:<a@b>}, or {@code .} for
   * the end of data) with the reply the function gives; null means the normal reply.
   */
  public TestSmtpServer replies(Function<String, String> replies) {
    this.replies = replies;
    return this;
  }

  public TestSmtpServer faults(Function<String, Fault> faults) {
    this.faults = faults;
    return this;
  }

  public TestSmtpServer maxSize(long bytes) {
    this.maxSize = bytes;
    return this;
  }

  public List<Received> received() {
    return new ArrayList<>(received);
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** The most connections that were open at the same time. */
  public int mostConcurrent() {
    return mostOpen.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        sockets.add(socket);
        connections.incrementAndGet();
        mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
        Thread session = new Thread(() -> serve(socket), "test-smtp-session");
        session.setDaemon(true);
        session.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try {
      new Session(socket).run();
    } catch (IOException e) {
      // The client went away; that is the client's business.
    } finally {
      open.decrementAndGet();
      try {
        socket.close();
      } catch (IOException e) {
        // Already closed.
      }
    }
  }

  private final class Session {
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private boolean secure;
    private String sender;
    private String ehlo;
    private final List<String> recipients = new ArrayList<>();

    Session(Socket socket) throws IOException {
      use(socket);
    }

    private void use(Socket s) throws IOException {
      socket = s;
      in = new BufferedInputStream(s.getInputStream());
      out = s.getOutputStream();
    }

    void run() throws IOException {
      if (!respond("CONNECT", "220 test.sink ESMTP ready")) {
        return;
      }
      String line;
      while ((line = readLine()) != null) {
        String command = line.toUpperCase(Locale.ROOT);
        String verb = command.split(" ", 2)[0];
        switch (verb) {
          case "EHLO" -> {
            ehlo = argument(line);
            List<String> lines = new ArrayList<>(List.of("test.sink", "PIPELINING", "8BITMIME"));
            lines.add(maxSize > 0 ? "SIZE " + maxSize : "SIZE");
            if (tls != null && !secure) {
              lines.add("STARTTLS");
            }
            if (!respond(line, multiline(250, lines))) {
              return;
            }
          }
          case "HELO", "NOOP" -> {
            if (verb.equals("HELO")) {
              ehlo = argument(line);
            }
            if (!respond(line, "250 ok")) {
              return;
            }
          }
          case "STARTTLS" -> {
            if (!respond(line, "220 go ahead")) {
              return;
            }
            SSLSocket ssl =
                (SSLSocket)
                    tls.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
            ssl.setUseClientMode(false);
            ssl.startHandshake();
            secure = true;
            use(ssl);
          }
          case "MAIL" -> {
            sender = between(line, '<', '>');
            recipients.clear();
            if (!respond(line, "250 2.1.0 ok")) {
              return;
            }
          }
          case "RCPT" -> {
            String recipient = between(line, '<', '>');
            String reply = replies.apply(command);
            if (reply == null || reply.startsWith("2")) {
              recipients.add(recipient);
            }
            if (!send(command, reply != null ? reply : "250 2.1.5 ok")) {
              return;
            }
          }
          case "DATA" -> {
            if (recipients.isEmpty()) {
              if (!respond(line, "554 5.5.1 no valid recipients")) {
                return;
              }
              continue;
            }
            if (!respond(line, "354 go on")) {
              return;
            }
            byte[] content = readData();
            if (content == null) {
              return;
            }
            String reply = replies.apply(".");
            if (reply == null || reply.startsWith("2")) {
              received.add(
                  new Received(
                      sender,
                      List.copyOf(recipients),
                      content,
                      secure,
                      socket.getInetAddress(),
                      ehlo));
            }
            if (!send(".", reply != null ? reply : "250 2.0.0 queued as " + received.size())) {
              return;
            }
          }
          case "RSET" -> {
            recipients.clear();
            if (!respond(line, "250 2.0.0 ok")) {
              return;
            }
          }
          case "QUIT" -> {
            respond(line, "221 2.0.0 bye");
            return;
          }
          default -> {
            if (!respond(line, "500 5.5.1 unknown command")) {
              return;
            }
          }
        }
      }
    }

    /** Writes the reply (or the scripted one); false when a fault ends the session. */
    private boolean respond(String command, String normal) throws IOException {
      String key = command.toUpperCase(Locale.ROOT);
      String scripted = key.equals("CONNECT") ? null : replies.apply(key);
      return send(key, scripted != null ? scripted : normal);
    }

    /** Writes exactly {@code reply}, unless a fault is scripted for the command. */
    private boolean send(String key, String reply) throws IOException {
      Fault fault = faults.apply(key);
      if (fault == Fault.DROP) {
        return false;
      }
      if (fault == Fault.GARBAGE) {
        out.write("this is not smtp\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return false;
      }
      if (fault == Fault.SILENCE) {
        // Says nothing and reads on until the client gives up and closes, as a stuck server does.
        try {
          while (in.read() != -1) {
            // ignored
          }
        } catch (IOException e) {
          // The client or close() ended the connection.
        }
        return false;
      }
      out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return true;
    }

    private byte[] readData() throws IOException {
      ByteArrayOutputStream content = new ByteArrayOutputStream();
      while (true) {
        byte[] line = readRawLine();
        if (line == null) {
          return null;
        }
        if (line.length == 3 && line[0] == '.' && line[1] == '\r' && line[2] == '\n') {
          return content.toByteArray();
        }
        int start = line.length > 0 && line[0] == '.' ? 1 : 0;
        content.write(line, start, line.length - start);
      }
    }

    private byte[] readRawLine() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) != -1) {
        line.write(b);
        if (b == '\n') {
          return line.toByteArray();
        }
      }
      return line.size() == 0 ? null : line.toByteArray();
    }

    private String readLine() throws IOException {
      byte[] raw = readRawLine();
      if (raw == null) {
        return null;
      }
      return new String(raw, StandardCharsets.UTF_8).replaceAll("\r?\n$", "");
    }
  }

  private static String multiline(int code, List<String> lines) {
    StringBuilder reply = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      reply.append(code).append(i == lines.size() - 1 ? " " : "-").append(lines.get(i));
      if (i < lines.size() - 1) {
        reply.append("\r\n");
      }
    }
    return reply.toString();
  }

  /** What follows the verb, as the client wrote it; null when nothing does. */
  private static String argument(String line) {
    String[] parts = line.trim().split("\\s+", 2);
    return parts.length > 1 ? parts[1] : null;
  }

  private static String between(String line, char open, char close) {
    int start = line.indexOf(open);
    int end = line.indexOf(close, start + 1);
    return start < 0 || end < 0 ? "" : line.substring(start + 1, end);
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
