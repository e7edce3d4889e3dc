package org.postilion.itests;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.postilion.testkit.FreePorts;
import org.postilion.testkit.SmtpClient;

/**
 * The assembled distribution unpacked into a folder of its own and run as an operator runs it
 * ({@code bin/karaf server}), in a process of its own: for what Pax Exam cannot do, such as killing
 * the server with SIGKILL and starting it again on the same data.
 */
final class Distribution implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /**
   * How long a boot may take before a test gives up: a fresh distribution resolves its features on
   * the first start, two side by side on two cores.
   */
  static final Duration BOOT = Duration.ofMinutes(3);

  private static final String CLIENT_USER = "itest";
  private static final String CLIENT_PASSWORD = "itest-secret";

  private final Path home;
  private final int smtpPort;
  private final int httpPort;
  private final int sshPort;
  private Process process;

  private Distribution(Path home, int smtpPort, int httpPort, int sshPort) {
    this.home = home;
    this.smtpPort = smtpPort;
    this.httpPort = httpPort;
    this.sshPort = sshPort;
  }

  /** Unpacks the tar.gz the assembly built into {@code folder} with free ports. */
  static Distribution unpack(Path folder) throws IOException, InterruptedException {
    String archive = System.getProperty("postilion.distribution");
    if (archive == null) {
      throw new IllegalStateException("system property postilion.distribution is not set");
    }
    Files.createDirectories(folder);
    run(List.of("tar", "xzf", archive, "-C", folder.toString(), "--strip-components=1"));
    Distribution distribution =
        new Distribution(folder, FreePorts.pick(), FreePorts.pick(), FreePorts.pick());
    distribution.setting(
        "org.postilion.smtp.listener-default.cfg", "port", "" + distribution.smtpPort);
    distribution.setting(
        "org.ops4j.pax.web.cfg", "org.osgi.service.http.port", "" + distribution.httpPort);
    // SSH and RMI of a second Karaf would collide with any other on this machine.
    distribution.setting("org.apache.karaf.shell.cfg", "sshPort", "" + distribution.sshPort);
    // The operator bin/client logs in as (see client()).
    distribution.setting("users.properties", CLIENT_USER, CLIENT_PASSWORD + ",_g_:admingroup");
    distribution.setting(
        "org.apache.karaf.management.cfg", "rmiRegistryPort", "" + FreePorts.pick());
    distribution.setting("org.apache.karaf.management.cfg", "rmiServerPort", "" + FreePorts.pick());
    return distribution;
  }

  Path home() {
    return home;
  }

  Path data() {
    return home.resolve("data");
  }

  int smtpPort() {
    return smtpPort;
  }

  int httpPort() {
    return httpPort;
  }

  /**
   * A call to the node's admin API ({@code /api/admin/<path>}), with a JSON body or none; the
   * shipped security cfg trusts this host.
   */
  HttpResponse<String> admin(String method, String path, String json)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/admin/" + path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Sets a key of an etc/ file, adding the file or the key when missing. */
  void setting(String file, String key, String value) throws IOException {
    Path path = home.resolve("etc").resolve(file);
    StringBuilder text = new StringBuilder();
    boolean found = false;
    if (Files.exists(path)) {
      for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
        String trimmed = line.trim();
        if (!trimmed.startsWith("#") && trimmed.matches("\\Q" + key + "\\E\\s*[=:].*")) {
          text.append(key).append(" = ").append(value).append('\n');
          found = true;
        } else {
          text.append(line).append('\n');
        }
      }
    }
    if (!found) {
      text.append(key).append(" = ").append(value).append('\n');
    }
    Files.writeString(path, text.toString(), StandardCharsets.UTF_8);
  }

  /** Starts {@code bin/karaf server} with the shipped JVM options; returns once SMTP greets. */
  void start(Duration timeout) throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(home.resolve("bin/karaf").toString(), "server")
            .directory(home.toFile())
            .redirectErrorStream(true)
            .redirectOutput(home.resolve("console.log").toFile());
    Map<String, String> environment = builder.environment();
    environment.remove("JAVA_OPTS");
    environment.remove("EXTRA_JAVA_OPTS");
    int logged = log().length();
    process = builder.start();
    long deadline = System.nanoTime() + timeout.toNanos();
    // The log says when the listener is up: polling the port meanwhile would make connections
    // whose local ports another server of the test may be about to bind.
    while (true) {
      String since = logSince(logged);
      if (since.contains("SMTP listener default listening on") && greets()) {
        return;
      }
      if (since.contains("SMTP listener default is not started")) {
        throw new IllegalStateException(
            "the SMTP listener did not start at port " + smtpPort + diagnosis());
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "the server exited with "
                + process.exitValue()
                + "; see "
                + home.resolve("console.log"));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no SMTP greeting within " + timeout + " at port " + smtpPort + diagnosis());
      }
      Thread.sleep(200);
    }
  }

  /**
   * What a boot that did not end shows: the end of the server's log, its warnings, and the threads
   * that start bundles and components (the whole thread dump is left in threads.txt).
   */
  private String diagnosis() {
    StringBuilder text = new StringBuilder();
    List<String> log = List.of(log().split("\n"));
    List<String> warnings =
        log.stream().filter(line -> line.contains("| WARN ") || line.contains("| ERROR ")).toList();
    text.append("\n-- warnings and errors of karaf.log (last 15):\n");
    warnings
        .subList(Math.max(0, warnings.size() - 15), warnings.size())
        .forEach(line -> text.append(cut(line)).append('\n'));
    text.append("-- karaf.log ends (last 25 lines):\n");
    log.subList(Math.max(0, log.size() - 25), log.size())
        .forEach(line -> text.append(cut(line)).append('\n'));
    String threads = threadDump();
    text.append("-- starting threads (all in ").append(home.resolve("threads.txt")).append("):\n");
    for (String thread : threads.split("\n\n")) {
      boolean starting =
          thread.startsWith("\"FelixStartLevel")
              || thread.startsWith("\"features-")
              || thread.startsWith("\"CM Configuration Updater")
              || thread.contains("org.postilion.");
      // A thread waiting with a short stack is a pool or a loop with nothing to do.
      boolean idle =
          (thread.contains("State: WAITING") || thread.contains("State: TIMED_WAITING"))
              && thread.lines().filter(line -> line.startsWith("\tat ")).count() <= 12;
      if (starting && !idle) {
        thread.lines().limit(20).forEach(line -> text.append(cut(line)).append('\n'));
      }
    }
    return text.toString();
  }

  /** The server JVM's threads (jcmd Thread.print), also written to threads.txt; empty if none. */
  private String threadDump() {
    if (process == null) {
      return "";
    }
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    List<ProcessHandle> all =
        java.util.stream.Stream.concat(
                java.util.stream.Stream.of(process.toHandle()), process.descendants())
            .toList();
    for (ProcessHandle handle : all) {
      if (handle.info().command().map(c -> c.endsWith("/java")).orElse(false)) {
        try {
          Path file = home.resolve("threads.txt");
          Process dump =
              new ProcessBuilder(jcmd, Long.toString(handle.pid()), "Thread.print")
                  .redirectErrorStream(true)
                  .redirectOutput(file.toFile())
                  .start();
          if (dump.waitFor(30, TimeUnit.SECONDS)) {
            return Files.readString(file, StandardCharsets.UTF_8);
          }
          dump.destroyForcibly();
        } catch (IOException e) {
          return "(jcmd failed: " + e + ")";
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    return "";
  }

  private static String cut(String line) {
    return line.length() > 220 ? line.substring(0, 220) + "..." : line;
  }

  /** Starts the nodes side by side (a boot waits on disk and timers as much as on the CPU). */
  static void startAll(Duration timeout, Distribution... nodes) throws Exception {
    java.util.concurrent.ExecutorService starting =
        java.util.concurrent.Executors.newFixedThreadPool(nodes.length);
    try {
      List<java.util.concurrent.Future<Void>> started = new java.util.ArrayList<>();
      for (Distribution node : nodes) {
        started.add(
            starting.submit(
                () -> {
                  node.start(timeout);
                  return null;
                }));
      }
      for (java.util.concurrent.Future<Void> f : started) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw e.getCause() instanceof Exception cause ? cause : e;
        }
      }
    } finally {
      starting.shutdownNow();
    }
  }

  private boolean greets() {
    try (SmtpClient smtp = new SmtpClient(smtpPort)) {
      String greeting = smtp.reply();
      return greeting != null && greeting.startsWith("220");
    } catch (IOException e) {
      return false;
    }
  }

  /** SIGKILL to the JVM and any process it started: nothing gets to shut down. */
  void kill() throws InterruptedException {
    if (process == null) {
      return;
    }
    List<ProcessHandle> all =
        java.util.stream.Stream.concat(
                process.descendants(), java.util.stream.Stream.of(process.toHandle()))
            .toList();
    all.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle handle : all) {
      handle.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> handle).join();
    }
    process = null;
  }

  /**
   * Runs {@code bin/client COMMAND} as a script would (no terminal); returns what it printed, and
   * fails when it exits with another status than 0.
   */
  String client(String command) throws IOException, InterruptedException {
    Path output = Files.createTempFile(home, "client", ".out");
    ProcessBuilder builder =
        new ProcessBuilder(
                "sh",
                home.resolve("bin/client").toString(),
                "-a",
                Integer.toString(sshPort),
                "-u",
                CLIENT_USER,
                "-p",
                CLIENT_PASSWORD,
                "-r",
                "10",
                command)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(output.toFile());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process client = builder.start();
    if (!client.waitFor(60, TimeUnit.SECONDS)) {
      client.destroyForcibly();
      throw new IllegalStateException("bin/client " + command + " did not end within 60 s");
    }
    String printed = Files.readString(output, StandardCharsets.UTF_8);
    if (client.exitValue() != 0) {
      throw new IllegalStateException(
          "bin/client " + command + " exited with " + client.exitValue() + ": " + printed);
    }
    return printed;
  }

  /** The event log's lines of this record type for recipients of the domain. */
  List<String> records(String type, String domain) {
    try (java.util.stream.Stream<Path> files = Files.list(data().resolve("log"))) {
      List<String> lines = new java.util.ArrayList<>();
      for (Path file :
          files.filter(f -> f.getFileName().toString().matches("events-.*\\.jsonl")).toList()) {
        for (String line : Files.readAllLines(file)) {
          if (line.contains("\"type\":\"" + type + "\"") && line.contains("@" + domain + "\"")) {
            lines.add(line);
          }
        }
      }
      return lines;
    } catch (IOException e) {
      return List.of();
    }
  }

  /** What the log says past its first {@code logged} characters (all of it when it rolled over). */
  private String logSince(int logged) {
    String text = log();
    return text.length() >= logged ? text.substring(logged) : text;
  }

  /** The server's log so far; empty before it exists. */
  String log() {
    try {
      return Files.readString(data().resolve("log/karaf.log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process tar = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (tar.waitFor() != 0) {
      throw new IOException(command + " failed: " + output);
    }
  }
}
