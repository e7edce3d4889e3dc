package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivilegedExceptionAction;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.security.auth.Subject;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.FrameworkUtil;
import org.postilion.testkit.SelfSignedTls;
import org.postilion.testkit.SmtpClient;

/**
 * The listener as the internet meets it: STARTTLS and implicit TLS with the self-signed certificate
 * of a fresh install, AUTH against users in etc/postilion-users.properties, the tenant role, the
 * failed-AUTH throttle, BDAT, and a corpus of malformed sessions.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class SecureIngressIT extends PostilionTestSupport {
  private static final String LISTENER_CFG = "etc/org.postilion.smtp.listener-default.cfg";
  private static final String QUEUE_CFG = "etc/org.postilion.queue-itest-foreign.cfg";

  @Override
  protected Option[] extraOptions() {
    return new Option[] {
      editConfigurationFilePut(LISTENER_CFG, "auth.max_failures", "3"),
      editConfigurationFilePut(LISTENER_CFG, "command_timeout", "4"),
      editConfigurationFilePut(LISTENER_CFG, "data_timeout", "4"),
      editConfigurationFilePut(QUEUE_CFG, "match.domain", "foreign.test"),
      editConfigurationFilePut(QUEUE_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          QUEUE_CFG, "maildir.path", "${karaf.data}/itest-maildir/{tenant}/{user}"),
    };
  }

  private static Path maildir(String tenant, String user) {
    return data().resolve("itest-maildir").resolve(tenant).resolve(user);
  }

  /**
   * Adds the user by writing its password in plain text, as the file's comments allow, and waits
   * until the realm has replaced it by a bcrypt hash.
   */
  private static void ensureUser() throws Exception {
    Path users = etc().resolve("postilion-users.properties");
    if (Files.readString(users).contains("alice =")) {
      return;
    }
    Files.writeString(
        users,
        Files.readString(users) + "alice = correct horse battery,tenant.acme\n",
        StandardCharsets.UTF_8);
    await(
        "the password hashed",
        WAIT,
        () -> {
          try {
            String text = Files.readString(users);
            return text.contains("alice = {CRYPT}$2a$") && !text.contains("correct horse");
          } catch (IOException e) {
            return false;
          }
        });
  }

  /** Trusts exactly the certificate the listener made for itself at first start. */
  private static SSLContext trustServer() throws Exception {
    return SelfSignedTls.trusting(data().resolve("tls/self-signed-localhost.crt"));
  }

  private static String plain(String user, String password) {
    return Base64.getEncoder()
        .encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static void expect(String prefix, String reply) {
    assertTrue("expected " + prefix + ", got " + reply, reply != null && reply.startsWith(prefix));
  }

  @Test
  public void authAfterStartTlsLetsATenantUserRelayAnywhere() throws Exception {
    ensureUser();
    String content =
        "From: alice@acme.example\r\nX-Tenant: someone-else\r\nSubject: relayed\r\n"
            + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <relay@acme.example>\r\n"
            + "\r\nrelayed for an authenticated user\r\n";
    // 127.0.0.2 is not in relay_hosts: without AUTH it may not relay.
    try (SmtpClient smtp = new SmtpClient("127.0.0.2", smtpPort())) {
      expect("220", smtp.reply());
      String ehlo = smtp.send("EHLO itest.example");
      assertTrue(ehlo, ehlo.contains("STARTTLS"));
      assertFalse("no AUTH before TLS: " + ehlo, ehlo.contains("AUTH"));
      expect("250", smtp.send("MAIL FROM:<alice@acme.example>"));
      assertEquals("550 5.7.1 relaying denied", smtp.send("RCPT TO:<bob@foreign.test>"));
      expect("250", smtp.send("RSET"));
      expect("220", smtp.send("STARTTLS"));
      smtp.startTls(trustServer());
      ehlo = smtp.send("EHLO itest.example");
      assertTrue(ehlo, ehlo.contains("AUTH LOGIN PLAIN"));
      assertFalse(ehlo, ehlo.contains("STARTTLS"));
      assertEquals(
          "235 2.7.0 Authentication successful",
          smtp.send("AUTH PLAIN " + plain("alice", "correct horse battery")));
      expect("250", smtp.sendMessage("alice@acme.example", "bob@foreign.test", content));
    }
    // The role tenant.acme names the queue, whatever X-Tenant said.
    Path box = maildir("acme", "bob");
    await("delivery to " + box, WAIT, () -> newMessages(box).size() == 1);
    String delivered = Files.readString(newMessages(box).get(0), StandardCharsets.ISO_8859_1);
    assertTrue(delivered, delivered.contains("with ESMTPSA"));
    assertTrue(delivered, delivered.contains("(using TLSv1.3 with cipher "));
    assertFalse(delivered, delivered.contains("X-Tenant"));
    assertTrue(
        eventLog(), hasRecord("Reception", "bob@foreign.test", "\"queue\":\"acme@foreign.test\""));
  }

  @Test
  public void karafsJaasCommandsManageTheSmtpUsers() throws Exception {
    // The console's admin role, as an operator logged in with bin/client has it.
    Subject operator = new Subject();
    operator.getPrincipals().add(new UserPrincipal("operator"));
    operator.getPrincipals().add(new RolePrincipal("admin"));
    String output =
        Subject.doAs(
            operator,
            (PrivilegedExceptionAction<String>)
                () ->
                    shell(
                        "jaas:realm-manage --realm postilion; jaas:user-add carl 'carl secret';"
                            + " jaas:role-add carl tenant.carlco; jaas:update"));
    String users = Files.readString(etc().resolve("postilion-users.properties"));
    assertTrue(output + "\n" + users, users.contains("carl = {CRYPT}$2a$"));
    assertTrue(users, users.contains("tenant.carlco"));
    assertFalse(users, users.contains("carl secret"));
    try (SmtpClient smtp = new SmtpClient("127.0.0.5", smtpPort())) {
      smtp.hello();
      expect("220", smtp.send("STARTTLS"));
      smtp.startTls(trustServer());
      smtp.send("EHLO itest.example");
      expect("235", smtp.send("AUTH PLAIN " + plain("carl", "carl secret")));
    }
  }

  @Test
  public void wrongPasswordsAreRefusedSlowedDownAndLockedOut() throws Exception {
    ensureUser();
    try (SmtpClient smtp = new SmtpClient("127.0.0.3", smtpPort())) {
      smtp.hello();
      expect("220", smtp.send("STARTTLS"));
      smtp.startTls(trustServer());
      smtp.send("EHLO itest.example");
      expect("535 5.7.8", smtp.send("AUTH PLAIN " + plain("alice", "guess one")));
      long begin = System.nanoTime();
      expect("535 5.7.8", smtp.send("AUTH PLAIN " + plain("nobody", "guess two")));
      long heldBack = Duration.ofNanos(System.nanoTime() - begin).toMillis();
      assertTrue("the second failure is held back, took " + heldBack + " ms", heldBack >= 1_900);
      expect("535 5.7.8", smtp.send("AUTH PLAIN " + plain("alice", "guess three")));
      expect("421 4.7.0", smtp.send("AUTH PLAIN " + plain("alice", "correct horse battery")));
      assertNull(smtp.reply());
    }
    // Another address is not locked out.
    try (SmtpClient smtp = new SmtpClient("127.0.0.4", smtpPort())) {
      smtp.hello();
      expect("220", smtp.send("STARTTLS"));
      smtp.startTls(trustServer());
      smtp.send("EHLO itest.example");
      expect("235", smtp.send("AUTH PLAIN " + plain("alice", "correct horse battery")));
    }
    await(
        "Rejection records of the failures",
        WAIT,
        () ->
            eventLog()
                    .lines()
                    .filter(l -> l.contains("\"refusal\":\"auth_failed\""))
                    .filter(l -> l.contains("127.0.0.3"))
                    .count()
                == 3);
    assertTrue(eventLog(), eventLog().contains("\"refusal\":\"auth_locked\""));
    String listeners = shell("mta:listeners");
    assertTrue(listeners, listeners.contains("default"));
    assertTrue(listeners, listeners.contains("auth_failed=3"));
    assertTrue(listeners, listeners.contains("starttls CN=localhost until "));
    assertTrue(listeners, listeners.contains("auth_locked=1"));
  }

  @Test
  public void anImplicitTlsListenerDeliversWithAuthLogin() throws Exception {
    ensureUser();
    int port = freePort();
    writeConfig(
        "org.postilion.smtp.listener.SmtpListener",
        "org.postilion.smtp.listener-smtps.cfg",
        "port = " + port + "\ntls.mode = implicit\nlistener.require_auth = true\n");
    String content =
        "From: alice@acme.example\r\nSubject: smtps\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            + "Message-ID: <smtps@acme.example>\r\n\r\nover port 465 style TLS\r\n";
    try (SmtpClient smtp = new SmtpClient(trustServer(), port)) {
      expect("220", smtp.reply());
      String ehlo = smtp.send("EHLO itest.example");
      assertTrue(ehlo, ehlo.contains("AUTH LOGIN PLAIN"));
      assertFalse(ehlo, ehlo.contains("STARTTLS"));
      assertEquals("530 5.7.0 Authentication required", smtp.send("MAIL FROM:<a@acme.example>"));
      expect("334", smtp.send("AUTH LOGIN"));
      expect("334", smtp.send(Base64.getEncoder().encodeToString("alice".getBytes())));
      expect(
          "235", smtp.send(Base64.getEncoder().encodeToString("correct horse battery".getBytes())));
      expect("250", smtp.sendMessage("alice@acme.example", "carol@foreign.test", content));
    }
    Path box = maildir("acme", "carol");
    await("delivery to " + box, WAIT, () -> newMessages(box).size() == 1);
    assertDeliveredAsSent(content, Files.readAllBytes(newMessages(box).get(0)));
  }

  @Test
  public void aChunkedMessageArrivesIntact() throws Exception {
    String content =
        "From: sender@example.test\r\nSubject: chunks\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
            + "Message-ID: <chunks@example.test>\r\n\r\n"
            + "line one\r\n.a line that starts with a dot\r\n"
            + "x".repeat(5000)
            + "\r\n";
    String first = content.substring(0, 100);
    String second = content.substring(100);
    try (SmtpClient smtp = new SmtpClient(smtpPort())) {
      expect("220", smtp.reply());
      assertTrue(smtp.send("EHLO itest.example").contains("CHUNKING"));
      expect("250", smtp.send("MAIL FROM:<sender@example.test>"));
      expect("250", smtp.send("RCPT TO:<dan@foreign.test>"));
      smtp.write("BDAT " + first.length() + "\r\n" + first);
      expect("250", smtp.reply());
      smtp.write("BDAT " + second.length() + " LAST\r\n" + second);
      expect("250 2.0.0 Ok queued as", smtp.reply());
    }
    Path box = data().resolve("itest-maildir/dan");
    await("delivery to " + box, WAIT, () -> newMessages(box).size() == 1);
    assertDeliveredAsSent(content, Files.readAllBytes(newMessages(box).get(0)));
  }

  @Test
  public void anSmtpUtf8MessageArrivesIntact() throws Exception {
    String content =
        "From: José <josé@exämple.test>\r\nTo: 用户@foreign.test\r\nSubject: ¡hola!\r\n"
            + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <utf8@example.test>\r\n\r\n"
            + "Grüße, 你好\r\n";
    try (SmtpClient smtp = new SmtpClient(smtpPort())) {
      expect("220", smtp.reply());
      assertTrue(smtp.send("EHLO itest.example").contains("SMTPUTF8"));
      OutputStream out = smtp.output();
      out.write(
          ("MAIL FROM:<josé@exämple.test> SMTPUTF8\r\nRCPT TO:<用户@foreign.test>\r\nDATA\r\n")
              .getBytes(StandardCharsets.UTF_8));
      out.flush();
      expect("250", smtp.reply());
      expect("250", smtp.reply());
      expect("354", smtp.reply());
      out.write((content + ".\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      expect("250", smtp.reply());
    }
    Path box = data().resolve("itest-maildir/用户");
    await("delivery to " + box, WAIT, () -> newMessages(box).size() == 1);
    byte[] delivered = Files.readAllBytes(newMessages(box).get(0));
    String text = new String(delivered, StandardCharsets.UTF_8);
    assertTrue(text, text.startsWith("Received: from ") && text.contains("with UTF8SMTP"));
    assertTrue(text, text.endsWith(content));
    assertTrue(eventLog(), hasRecord("Reception", "用户@foreign.test", "josé@xn--exmple-cua.test"));
  }

  @Test
  public void theDistributionShipsNoAccountAndListensLocallyOnly() throws Exception {
    for (String file : List.of("users.properties", "postilion-users.properties")) {
      List<String> accounts =
          Files.readAllLines(etc().resolve(file)).stream()
              .map(String::trim)
              .filter(l -> !l.isEmpty() && !l.startsWith("#") && !l.startsWith("_g_"))
              // The users other tests of this class add.
              .filter(l -> !l.startsWith("alice =") && !l.startsWith("carl ="))
              .toList();
      assertEquals(file + " ships accounts", List.of(), accounts);
    }
    assertTrue(karafLog(), karafLog().contains("No console user in "));
    java.util.Properties shell = new java.util.Properties();
    try (InputStream in = Files.newInputStream(etc().resolve("org.apache.karaf.shell.cfg"))) {
      shell.load(in);
    }
    assertEquals("127.0.0.1", shell.getProperty("sshHost"));
    int sshPort = Integer.parseInt(shell.getProperty("sshPort"));
    try (Socket ssh = new Socket("127.0.0.1", sshPort)) {
      ssh.setSoTimeout(10_000);
      byte[] banner = new byte[7];
      assertEquals(7, ssh.getInputStream().readNBytes(banner, 0, 7));
      assertEquals("SSH-2.0", new String(banner, StandardCharsets.US_ASCII));
    }
    assertFalse(installed("org.apache.felix.webconsole"));
    assertFalse(installed("org.apache.karaf.management.server"));
  }

  @Test
  public void malformedSessionsLeaveTheListenerServing() throws Exception {
    List<URL> corpus =
        Collections.list(
            FrameworkUtil.getBundle(getClass()).findEntries("smtp-fuzz", "*.txt", false));
    corpus.sort((a, b) -> a.getPath().compareTo(b.getPath()));
    assertTrue("corpus has " + corpus.size() + " files", corpus.size() >= 10);
    // All at once, as hostile clients come: many sessions end only at the server's
    // command_timeout, and one after the other they took half a minute.
    ExecutorService clients = Executors.newFixedThreadPool(corpus.size());
    try {
      Map<URL, Future<String>> transcripts = new LinkedHashMap<>();
      for (URL entry : corpus) {
        byte[] session;
        try (InputStream in = entry.openStream()) {
          session = FuzzSession.compile(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        transcripts.put(entry, clients.submit(() -> replay(session)));
      }
      // Meanwhile, a client that asks for TLS and then says nothing is dropped after
      // command_timeout, and others are served.
      try (SmtpClient smtp = new SmtpClient(smtpPort())) {
        smtp.hello();
        expect("220", smtp.send("STARTTLS"));
        long begin = System.nanoTime();
        assertNormalSessionWorks("the corpus under way");
        assertEquals(-1, readUntilClosed(smtp));
        assertTrue(Duration.ofNanos(System.nanoTime() - begin).toSeconds() < 15);
      }
      for (Map.Entry<URL, Future<String>> replayed : transcripts.entrySet()) {
        String transcript = replayed.getValue().get(30, TimeUnit.SECONDS);
        URL entry = replayed.getKey();
        assertTrue(entry + " got no greeting: " + transcript, transcript.startsWith("220 "));
        assertFalse(entry + ": " + transcript, transcript.contains("421 4.3.0"));
      }
    } finally {
      clients.shutdownNow();
    }
    assertNormalSessionWorks("the whole corpus");
    assertTrue(newMessages(data().resolve("itest-maildir/fuzz")).isEmpty());
    assertFalse(karafLog(), karafLog().contains("Unable to process request"));
  }

  private static int readUntilClosed(SmtpClient smtp) throws IOException {
    try {
      while (smtp.reply() != null) {
        // the server may still say something before it hangs up
      }
      return -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** Sends the session's bytes while reading every reply; returns what the server said. */
  private static String replay(byte[] session) throws Exception {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      socket.connect(new InetSocketAddress("127.0.0.1", smtpPort()), 10_000);
      socket.setSoTimeout(8_000);
      ByteArrayOutputStream replies = new ByteArrayOutputStream();
      Thread reader =
          new Thread(
              () -> {
                byte[] buffer = new byte[8192];
                try (InputStream in = socket.getInputStream()) {
                  int n;
                  while ((n = in.read(buffer)) >= 0) {
                    synchronized (replies) {
                      replies.write(buffer, 0, n);
                    }
                  }
                } catch (IOException e) {
                  // timed out or reset: the transcript so far is the result
                }
              });
      reader.start();
      OutputStream out = socket.getOutputStream();
      try {
        out.write(session);
        out.flush();
      } catch (IOException e) {
        // the server hung up on the session, which is a fine answer to most of the corpus
      }
      reader.join(10_000);
      synchronized (replies) {
        return replies.toString(StandardCharsets.ISO_8859_1);
      }
    }
  }

  private static void assertNormalSessionWorks(String after) throws IOException {
    try (SmtpClient smtp = new SmtpClient(smtpPort())) {
      expect("220", smtp.reply());
      expect("250", smtp.send("EHLO itest.example"));
      String reply = smtp.send("NOOP");
      assertTrue("after " + after + ": " + reply, reply.startsWith("250"));
    }
  }

  /** The corpus format: see src/test/resources/smtp-fuzz/README.md. */
  static final class FuzzSession {
    private FuzzSession() {}

    static byte[] compile(String text) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
      for (String line : body.split("\n", -1)) {
        if (line.startsWith("#")) {
          continue;
        }
        if (line.startsWith("@repeat ")) {
          String[] parts = line.split(" ", 3);
          byte[] once = unescape(parts[2] + "\\r\\n");
          for (int i = Integer.parseInt(parts[1]); i > 0; i--) {
            out.writeBytes(once);
          }
        } else if (line.startsWith("@bytes ")) {
          String[] parts = line.split(" ", 3);
          byte c = (byte) parts[2].charAt(0);
          for (int i = Integer.parseInt(parts[1]); i > 0; i--) {
            out.write(c);
          }
        } else if (line.startsWith("@raw ")) {
          out.writeBytes(unescape(line.substring(5)));
        } else {
          out.writeBytes(unescape(line + "\\r\\n"));
        }
      }
      return out.toByteArray();
    }

    private static byte[] unescape(String text) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c != '\\' || i + 1 == text.length()) {
          out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
          continue;
        }
        char next = text.charAt(++i);
        switch (next) {
          case '0' -> out.write(0);
          case 'r' -> out.write('\r');
          case 'n' -> out.write('\n');
          case 'x' -> {
            out.write(Integer.parseInt(text.substring(i + 1, i + 3), 16));
            i += 2;
          }
          default -> out.write(next);
        }
      }
      return out.toByteArray();
    }
  }
}
