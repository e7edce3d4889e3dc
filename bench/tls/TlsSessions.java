import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * SMTP sessions per second, each carrying one message: plain, or with STARTTLS (a full handshake
 * per session, no resumption). Run with the JDK's source launcher:
 *   java TlsSessions.java HOST PORT SESSIONS CONCURRENCY plain|starttls
 * Prints sessions_per_s=N. Benchmark only: it trusts any certificate.
 */
public final class TlsSessions {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    int sessions = Integer.parseInt(args[2]);
    int concurrency = Integer.parseInt(args[3]);
    boolean tls = args[4].equals("starttls");
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new TrustAll()}, null);
    String message =
        "From: bench@bench.test\r\nSubject: tls bench\r\n\r\n" + "x".repeat(1000) + "\r\n.\r\n";
    AtomicInteger failures = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    long begin = System.nanoTime();
    for (int i = 0; i < sessions; i++) {
      pool.execute(
          () -> {
            try {
              session(host, port, tls ? context : null, message);
            } catch (IOException | RuntimeException e) {
              if (failures.incrementAndGet() <= 3) {
                System.err.println("session failed: " + e);
              }
            }
          });
    }
    pool.shutdown();
    pool.awaitTermination(1, TimeUnit.HOURS);
    double seconds = (System.nanoTime() - begin) / 1e9;
    System.out.printf("sessions_per_s=%.0f%nfailed=%d%n", sessions / seconds, failures.get());
    if (failures.get() > 0) {
      System.exit(1);
    }
  }

  private static void session(String host, int port, SSLContext tls, String message)
      throws IOException {
    try (Socket plain = new Socket(host, port)) {
      plain.setSoTimeout(30_000);
      Socket socket = plain;
      Conversation c = new Conversation(socket);
      c.expect("220");
      c.command("EHLO bench.test", "250");
      if (tls != null) {
        c.command("STARTTLS", "220");
        SSLSocket secured =
            (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true);
        secured.startHandshake();
        c = new Conversation(secured);
        c.command("EHLO bench.test", "250");
      }
      c.command("MAIL FROM:<bench@bench.test>", "250");
      c.command("RCPT TO:<rcpt@sink.test>", "250");
      c.command("DATA", "354");
      c.write(message);
      c.expect("250");
      c.command("QUIT", "221");
    }
  }

  private static final class Conversation {
    private final BufferedReader in;
    private final OutputStream out;

    Conversation(Socket socket) throws IOException {
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      out = socket.getOutputStream();
    }

    void write(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    void command(String command, String code) throws IOException {
      write(command + "\r\n");
      expect(code);
    }

    void expect(String code) throws IOException {
      String line;
      do {
        line = in.readLine();
        if (line == null || !line.startsWith(code)) {
          throw new IOException("expected " + code + ", got " + line);
        }
      } while (line.length() > 3 && line.charAt(3) == '-');
    }
  }

  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
