package org.postilion.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private Redis (Debian's redis-server) for tests: on a free port of 127.0.0.1, without
 * persistence, its log in a scratch folder. It can be stopped and started again on the same port,
 * to see what a cluster node does while Redis is away.
 */
public final class RedisServer implements AutoCloseable {
  private static final Path REDIS = Path.of("/usr/bin/redis-server");

  private final Path folder;
  private final int port;
  private final List<String> extra;
  private final Path config;
  private Process process;

  public RedisServer(Path folder) throws IOException, InterruptedException {
    this(folder, null, List.of());
  }

  /** A server with more arguments, e.g. {@code --cluster-enabled yes}. */
  public RedisServer(Path folder, List<String> arguments) throws IOException, InterruptedException {
    this(folder, null, arguments);
  }

  private RedisServer(Path folder, Path config, List<String> arguments)
      throws IOException, InterruptedException {
    if (!Files.isExecutable(REDIS)) {
      throw new IllegalStateException(
          "Redis is needed: apt-get install redis-server (scripts/test-deps does)");
    }
    this.folder = Files.createDirectories(folder);
    // Stopped and started again on the same port: one no outgoing connection takes meanwhile.
    port = FreePorts.pick();
    this.extra = List.copyOf(arguments);
    this.config = config;
    start();
  }

  /**
   * A Sentinel watching the master {@code name} at {@code master}'s port (a quorum of one), as
   * Jedis's Sentinel client finds a master through it.
   */
  public static RedisServer sentinel(Path folder, RedisServer master, String name)
      throws IOException, InterruptedException {
    Files.createDirectories(folder);
    Path config = folder.resolve("sentinel.conf");
    Files.writeString(
        config,
        "sentinel monitor " + name + " 127.0.0.1 " + master.port() + " 1\n",
        StandardCharsets.UTF_8);
    return new RedisServer(folder, config, List.of("--sentinel"));
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:<port>}. */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Starts the server (again); returns once it answers PING. */
  public synchronized void start() throws IOException, InterruptedException {
    if (process != null && process.isAlive()) {
      return;
    }
    List<String> command = new java.util.ArrayList<>();
    command.add(REDIS.toString());
    if (config != null) {
      // A configuration file comes first (a Sentinel's), then the options.
      command.add(config.toString());
    }
    command.addAll(
        List.of(
            "--port",
            Integer.toString(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder.toString(),
            "--logfile",
            folder.resolve("redis.log").toString()));
    command.addAll(extra);
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(folder.resolve("redis.out").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!"+PONG".equals(command("PING"))) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "redis-server did not answer on port " + port + "; see " + folder.resolve("redis.log"));
      }
      Thread.sleep(50);
    }
  }

  /** Stops the server at once (SIGKILL): clients see connections refused. */
  public synchronized void stop() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
      process = null;
    }
  }

  /**
   * Sends one command in Redis's inline form and returns the first line of the answer, or null when
   * the server cannot be reached.
   */
  public String command(String line) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      OutputStream out = socket.getOutputStream();
      out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder answer = new StringBuilder();
      int c;
      while ((c = in.read()) != -1 && c != '\n') {
        if (c != '\r') {
          answer.append((char) c);
        }
      }
      return answer.toString();
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
