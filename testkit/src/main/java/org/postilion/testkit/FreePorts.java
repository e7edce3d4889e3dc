package org.postilion.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for servers a test starts later (a distribution, Redis, Dovecot): free when picked, and
 * below the range the kernel draws the local ports of outgoing connections from. A port from {@code
 * new ServerSocket(0)} lies in that range, so any connection made before the server binds it (the
 * test polling another node, a node delivering) can take it, and the server then fails with
 * "Address already in use".
 */
public final class FreePorts {
  private static final int LOWEST = 20000;
  private static final int FALLBACK_EPHEMERAL_LOW = 32768;
  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  /** A port no server listens on now, never given before by this JVM. */
  public static int pick() {
    int highest = ephemeralLow() - 1;
    if (highest - LOWEST < 1000) {
      // The machine lends almost every port to outgoing connections: take what the kernel gives.
      return anyFree();
    }
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, highest + 1);
      if (GIVEN.add(port) && bindable(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port between " + LOWEST + " and " + highest);
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private static int anyFree() {
    try (ServerSocket socket = new ServerSocket(0)) {
      GIVEN.add(socket.getLocalPort());
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }

  /** The first port of the kernel's range for outgoing connections. */
  private static int ephemeralLow() {
    // Read as a stream: Files.readString takes procfs's size of 0 at its word and stops short.
    try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      String range = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
      return Integer.parseInt(range.trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return FALLBACK_EPHEMERAL_LOW;
    }
  }
}
