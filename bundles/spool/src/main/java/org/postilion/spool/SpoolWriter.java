package org.postilion.spool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.postilion.api.concurrent.DaemonThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes to the spool. Whatever callers hand it while it commits goes into its
 * next transaction, so many messages arriving at once share one commit and one forced log write
 * (group commit), and no two writers ever wait on each other's locks. Each caller waits for the
 * commit that holds its change: a method of the spool that returned has its change on disk.
 */
final class SpoolWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SpoolWriter.class);

  /** Most changes in one transaction. */
  static final int GROUP = 256;

  /** Most message bytes in one transaction. */
  static final long GROUP_BYTES = 32L * 1024 * 1024;

  /** A change, made inside the group's transaction. */
  @FunctionalInterface
  interface Change {
    void apply(Statements statements) throws SQLException;
  }

  /** The writer's statements, prepared once on its own connection and kept open. */
  static final class Statements {
    private final Connection connection;
    private final Map<String, PreparedStatement> prepared = new HashMap<>();

    Statements(Connection connection) {
      this.connection = connection;
    }

    PreparedStatement get(String sql) throws SQLException {
      PreparedStatement statement = prepared.get(sql);
      if (statement == null) {
        statement = connection.prepareStatement(sql);
        prepared.put(sql, statement);
      }
      return statement;
    }

    void close() {
      prepared.values().forEach(SpoolWriter::closeQuietly);
      prepared.clear();
    }
  }

  private record Job(Change change, long bytes, CompletableFuture<Void> done) {}

  private final ConnectionPool pool;
  private Connection connection;
  private Statements statements;
  private final BlockingQueue<Job> waiting = new ArrayBlockingQueue<>(2 * GROUP);
  private final Thread thread;
  private volatile boolean closed;

  SpoolWriter(ConnectionPool pool) {
    this.pool = pool;
    this.thread = DaemonThreads.of("postilion-spool-writer", this::run);
    thread.start();
  }

  /**
   * Makes the change in the next group and returns once it is committed.
   *
   * @param bytes the message bytes it writes, to keep a group's transaction of bounded size
   */
  void write(Change change, long bytes) throws SQLException {
    if (closed) {
      throw new SQLException("the spool is closed");
    }
    Job job = new Job(change, bytes, new CompletableFuture<>());
    try {
      waiting.put(job);
      job.done().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while the spool wrote", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof SQLException sql) {
        throw sql;
      }
      throw new SQLException("the spool writer failed", cause);
    }
  }

  private void run() {
    List<Job> group = new ArrayList<>(GROUP);
    while (!closed || !waiting.isEmpty()) {
      try {
        Job first = waiting.take();
        group.add(first);
        long bytes = first.bytes();
        Job next;
        while (group.size() < GROUP && bytes < GROUP_BYTES && (next = waiting.poll()) != null) {
          group.add(next);
          bytes += next.bytes();
        }
        commit(group);
      } catch (InterruptedException e) {
        if (!closed) {
          LOG.warn("The spool writer was interrupted; it goes on");
        }
      } catch (RuntimeException e) {
        LOG.error("The spool writer failed on {} changes", group.size(), e);
        group.forEach(job -> job.done().completeExceptionally(e));
      } finally {
        group.clear();
      }
    }
  }

  /** The group in one transaction; a change that fails is taken out, the others committed. */
  private void commit(List<Job> group) {
    Connection c;
    try {
      if (connection == null || connection.isClosed()) {
        connection = pool.borrow();
        statements = new Statements(connection);
      }
      c = connection;
    } catch (SQLException e) {
      group.forEach(job -> job.done().completeExceptionally(e));
      return;
    }
    try {
      List<Job> applied = new ArrayList<>(group.size());
      for (Job job : group) {
        Savepoint savepoint = c.setSavepoint();
        try {
          job.change().apply(statements);
          c.releaseSavepoint(savepoint);
          applied.add(job);
        } catch (SQLException e) {
          c.rollback(savepoint);
          job.done().completeExceptionally(e);
        }
      }
      c.commit();
      applied.forEach(job -> job.done().complete(null));
    } catch (SQLException e) {
      // The transaction as a whole failed (a lock timeout rolls all of it back): each change
      // again, in a transaction of its own, so one bad change costs no other its write.
      LOG.warn(
          "A spool transaction of {} changes failed ({}); writing them one by one",
          group.size(),
          e.getMessage());
      rollbackQuietly(c);
      for (Job job : group) {
        if (!job.done().isDone()) {
          alone(c, job);
        }
      }
    }
  }

  private void alone(Connection c, Job job) {
    try {
      job.change().apply(statements);
      c.commit();
      job.done().complete(null);
    } catch (SQLException e) {
      rollbackQuietly(c);
      job.done().completeExceptionally(e);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      LOG.debug("Rollback failed after a failed spool transaction", e);
    }
  }

  /** Writes what waits, then stops. */
  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Job left;
    while ((left = waiting.poll()) != null) {
      left.done().completeExceptionally(new SQLException("the spool is closed"));
    }
    if (statements != null) {
      statements.close();
    }
    if (connection != null) {
      pool.release(connection);
    }
  }

  private static void closeQuietly(PreparedStatement statement) {
    try {
      statement.close();
    } catch (SQLException e) {
      LOG.debug("Closing a spool statement failed", e);
    }
  }
}
