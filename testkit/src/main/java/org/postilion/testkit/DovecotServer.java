package org.postilion.testkit;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private Dovecot LMTP server (Debian's dovecot-lmtpd) for tests: its own configuration, state
 * and maildirs under a scratch folder, a passwd-file user database, listening on a free port of
 * 127.0.0.1 and on a Unix socket.
 */
public final class DovecotServer implements AutoCloseable {
  private static final Path DOVECOT = Path.of("/usr/sbin/dovecot");

  private final Path folder;
  private final Path config;
  private final int port;

  /**
   * Starts Dovecot with the given users (local parts; any domain is stripped when looking them up).
   * Anyone else is refused at RCPT with 550 5.1.1.
   */
  public DovecotServer(Path folder, List<String> users) throws IOException, InterruptedException {
    if (!Files.isExecutable(DOVECOT)) {
      throw new IllegalStateException(
          "Dovecot is needed: apt-get install dovecot-lmtpd (scripts/test-deps does)");
    }
    this.folder = folder;
    // Dovecot's auth and delivery processes run as another user and must reach the folder.
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path mail = Files.createDirectories(folder.resolve("mail"));
    Files.setPosixFilePermissions(mail, PosixFilePermissions.fromString("rwxrwxrwx"));
    Files.createDirectories(folder.resolve("run"));
    Files.createDirectories(folder.resolve("state"));
    boolean root = "root".equals(System.getProperty("user.name"));
    // Dovecot never stores mail as root: as root, deliver as nobody.
    String account = root ? "nobody" : System.getProperty("user.name");
    int uid = root ? 65534 : (Integer) Files.getAttribute(folder, "unix:uid");
    int gid = root ? 65534 : (Integer) Files.getAttribute(folder, "unix:gid");
    StringBuilder passwd = new StringBuilder();
    for (String user : users) {
      passwd.append(user).append(":{PLAIN}unused:").append(uid).append(':').append(gid);
      passwd.append("::").append(mail.resolve(user)).append("::\n");
    }
    Files.writeString(folder.resolve("users"), passwd, StandardCharsets.UTF_8);
    port = FreePorts.pick();
    config = folder.resolve("dovecot.conf");
    Files.writeString(
        config,
        String.join(
            "\n",
            "base_dir = " + folder.resolve("run"),
            "state_dir = " + folder.resolve("state"),
            "log_path = " + folder.resolve("dovecot.log"),
            "protocols = lmtp",
            "ssl = no",
            "listen = 127.0.0.1",
            "default_login_user = " + account,
            "default_internal_user = " + account,
            "first_valid_uid = 1",
            "auth_username_format = %Ln",
            "mail_location = maildir:~/Maildir",
            "passdb {",
            "  driver = passwd-file",
            "  args = " + folder.resolve("users"),
            "}",
            "userdb {",
            "  driver = passwd-file",
            "  args = " + folder.resolve("users"),
            "}",
            "service lmtp {",
            "  inet_listener lmtp {",
            "    address = 127.0.0.1",
            "    port = " + port,
            "  }",
            "  unix_listener lmtp {",
            "    mode = 0666",
            "  }",
            "}",
            "service anvil {",
            "  chroot =",
            "}",
            "service stats {",
            "  chroot =",
            "}",
            ""),
        StandardCharsets.UTF_8);
    run(DOVECOT.toString(), "-c", config.toString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!accepts() || !Files.exists(socket())) {
      if (System.nanoTime() > deadline) {
        throw new IOException("Dovecot did not start: " + log());
      }
      Thread.sleep(50);
    }
  }

  public int port() {
    return port;
  }

  /** The LMTP Unix socket. */
  public Path socket() {
    return folder.resolve("run/lmtp");
  }

  /** The messages delivered to a user, as files in the new/ folder of their maildir. */
  public List<Path> messages(String user) throws IOException {
    Path fresh = folder.resolve("mail").resolve(user).resolve("Maildir/new");
    if (!Files.isDirectory(fresh)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(fresh)) {
      return files.sorted().toList();
    }
  }

  /** Dovecot's own log, for failure messages. */
  public String log() throws IOException {
    Path log = folder.resolve("dovecot.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "(no log)";
  }

  @Override
  public void close() throws IOException, InterruptedException {
    run(DOVECOT.toString(), "-c", config.toString(), "stop");
  }

  private boolean accepts() {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Runs a command to its end. Its output goes to a file, not a pipe: Dovecot's daemon would hold a
   * pipe open and a reader would wait for it forever.
   */
  private void run(String... command) throws IOException, InterruptedException {
    Path output = Files.createTempFile(folder, "command", ".out");
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(
          String.join(" ", command)
              + " failed: "
              + Files.readString(output, StandardCharsets.UTF_8));
    }
  }
}
