package org.postilion.delivery.lmtp;

import java.nio.file.Path;
import java.util.List;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.queue.QueueConfig;

/**
 * Where a queue's LMTP server listens: a Unix socket ({@code lmtp.socket}) or a TCP address ({@code
 * lmtp.host}, {@code lmtp.port}).
 */
record LmtpTarget(String host, int port, Path socket) {
  static final String HOST_KEY = "lmtp.host";
  static final String PORT_KEY = "lmtp.port";
  static final String SOCKET_KEY = "lmtp.socket";

  /** The LMTP port of RFC 2033's examples and of most servers' defaults. */
  static final int DEFAULT_PORT = 24;

  /** The {@code lmtp.*} keys of a queue file, checked by the queue manager when it is written. */
  static final List<ProtocolKey> KEYS =
      List.of(
          ProtocolKey.text(
              SOCKET_KEY, "", "Unix socket of the LMTP server; when set, host and port are unused"),
          ProtocolKey.text(HOST_KEY, "127.0.0.1", "host of the LMTP server"),
          ProtocolKey.integer(PORT_KEY, DEFAULT_PORT, 1, 65535, "TCP port of the LMTP server"));

  /**
   * @throws IllegalArgumentException naming the key that is wrong
   */
  static LmtpTarget of(QueueConfig config) {
    String socket = config.property(SOCKET_KEY);
    if (socket != null && !socket.isBlank()) {
      return new LmtpTarget(null, 0, Path.of(socket.trim()));
    }
    String host = config.property(HOST_KEY);
    String port = config.property(PORT_KEY);
    int number = DEFAULT_PORT;
    if (port != null && !port.isBlank()) {
      try {
        number = Integer.parseInt(port.trim());
      } catch (NumberFormatException e) {
        number = -1;
      }
      if (number < 1 || number > 65535) {
        throw new IllegalArgumentException(
            PORT_KEY + " = " + port + " in " + config.source() + " is not a TCP port");
      }
    }
    return new LmtpTarget(host == null || host.isBlank() ? "127.0.0.1" : host.trim(), number, null);
  }

  @Override
  public String toString() {
    return socket != null ? socket.toString() : host + ":" + port;
  }
}
