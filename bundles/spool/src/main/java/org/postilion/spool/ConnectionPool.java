package org.postilion.spool;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps opened embedded connections for reuse. Embedded Derby connections are cheap but not free,
 * and every message touches the spool several times.
 */
final class ConnectionPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionPool.class);

  private final DataSource dataSource;
  private final BlockingQueue<Connection> idle;

  ConnectionPool(DataSource dataSource, int maxIdle) {
    this.dataSource = dataSource;
    this.idle = new ArrayBlockingQueue<>(maxIdle);
  }

  /** A connection with auto-commit off; give it back with {@link #release}. */
  Connection borrow() throws SQLException {
    Connection connection = idle.poll();
    if (connection == null) {
      connection = dataSource.getConnection();
      connection.setAutoCommit(false);
    }
    return connection;
  }

  /** Takes a connection back; one left inside a transaction is rolled back first. */
  void release(Connection connection) {
    try {
      if (connection.isClosed()) {
        return;
      }
      connection.rollback();
      if (!idle.offer(connection)) {
        connection.close();
      }
    } catch (SQLException e) {
      LOG.warn("Dropping a spool connection that failed on release: {}", e.getMessage());
      closeQuietly(connection);
    }
  }

  @Override
  public void close() {
    Connection connection;
    while ((connection = idle.poll()) != null) {
      closeQuietly(connection);
    }
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.debug("Closing a spool connection failed", e);
    }
  }
}
