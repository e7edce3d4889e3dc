package org.postilion.spool;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A message's bytes streamed straight out of its BLOB. Derby keeps a BLOB readable only while its
 * transaction is open, so the stream owns the connection until it is closed.
 */
final class BlobStream extends FilterInputStream {
  private final ResultSet resultSet;
  private final Connection connection;
  private final ConnectionPool pool;
  private boolean closed;

  BlobStream(InputStream blob, ResultSet resultSet, Connection connection, ConnectionPool pool) {
    super(blob);
    this.resultSet = resultSet;
    this.connection = connection;
    this.pool = pool;
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      super.close();
      resultSet.close();
    } catch (SQLException e) {
      throw new IOException("closing spooled content failed", e);
    } finally {
      pool.release(connection);
    }
  }
}
