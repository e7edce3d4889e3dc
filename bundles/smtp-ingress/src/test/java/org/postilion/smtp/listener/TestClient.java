package org.postilion.smtp.listener;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A plain-socket SMTP client: what a test needs is to see every byte and every reply. */
final class TestClient implements AutoCloseable {
  Socket socket;
  BufferedReader in;
  OutputStream out;

  TestClient(int port) throws IOException {
    this(new Socket("127.0.0.1", port));
  }

  /** Connects from another loopback address (any 127.x.y.z works on Linux): another client. */
  TestClient(String localAddress, int port) throws IOException {
    this(new Socket("127.0.0.1", port, InetAddress.getByName(localAddress), 0));
  }

  TestClient(Socket socket) throws IOException {
    use(socket);
  }

  void use(Socket next) throws IOException {
    socket = next;
    socket.setSoTimeout(10_000);
    in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
    out = socket.getOutputStream();
  }

  String reply() throws IOException {
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

  String send(String command) throws IOException {
    write(command + "\r\n");
    return reply();
  }

  void write(String raw) throws IOException {
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  void startTls(SSLContext context) throws IOException {
    SSLSocket tls =
        (SSLSocket)
            context.getSocketFactory().createSocket(socket, "mx.test", socket.getPort(), true);
    tls.startHandshake();
    use(tls);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
