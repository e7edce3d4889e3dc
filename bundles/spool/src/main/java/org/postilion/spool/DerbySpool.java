package org.postilion.spool;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.derby.jdbc.EmbeddedDataSource;
import org.apache.derby.jdbc.EmbeddedDriver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.Selector;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool on embedded Apache Derby. Derby forces its transaction log to disk on every commit, so
 * a method that returned has its change on disk. All SQL of the project lives in this class.
 */
@Component(service = Spool.class, immediate = true, configurationPid = "org.postilion.spool")
@Designate(ocd = DerbySpool.Config.class)
public class DerbySpool implements Spool {
  private static final Logger LOG = LoggerFactory.getLogger(DerbySpool.class);
  private static final int SCHEMA_VERSION = 2;

  @ObjectClassDefinition(
      name = "Postilion spool",
      description = "Durable message storage on embedded Apache Derby")
  public @interface Config {
    @AttributeDefinition(
        description = "Folder of the Derby database; empty means ${karaf.data}/spool")
    String path() default "";

    @AttributeDefinition(description = "Spool connections kept open for reuse")
    int max__idle__connections() default 16;
  }

  private EmbeddedDataSource dataSource;
  private ConnectionPool pool;
  private Path directory;

  @Activate
  void activate(Config config) {
    Path dir =
        config.path().isBlank()
            ? Path.of(System.getProperty("karaf.data", "data"), "spool")
            : Path.of(config.path());
    open(dir, config.max__idle__connections());
  }

  /** Opens (creating if needed) the database in {@code dir}. */
  void open(Path dir, int maxIdleConnections) {
    try {
      Path parent = dir.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      // Derby's own diagnostics go next to the database, not into the working directory.
      System.setProperty(
          "derby.stream.error.file", parent.resolve("derby.log").toAbsolutePath().toString());
      directory = dir.toAbsolutePath();
      dataSource = new EmbeddedDataSource();
      dataSource.setDatabaseName(dir.toAbsolutePath().toString());
      dataSource.setCreateDatabase("create");
      pool = new ConnectionPool(dataSource, maxIdleConnections);
      createSchema();
      LOG.info("Spool open at {}", dir.toAbsolutePath());
    } catch (Exception e) {
      throw new SpoolException("cannot open the spool at " + dir.toAbsolutePath(), e);
    }
  }

  @Override
  public long sizeOnDisk() {
    // A Derby database is a few dozen files: walking them costs less than a query.
    try (Stream<Path> files = Files.walk(directory)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              file -> {
                try {
                  return Files.size(file);
                } catch (IOException e) {
                  return 0; // removed while we looked: Derby rotates its log files
                }
              })
          .sum();
    } catch (IOException | UncheckedIOException e) {
      throw new SpoolException("cannot measure the spool at " + directory, e);
    }
  }

  @Deactivate
  void close() {
    if (pool != null) {
      pool.close();
    }
    if (dataSource != null) {
      shutdownDerby(dataSource.getDatabaseName());
    }
  }

  private static void shutdownDerby(String database) {
    // Derby reports a clean shutdown as an SQLException: 08006 for a database, XJ015 for the
    // engine.
    EmbeddedDriver driver = new EmbeddedDriver();
    try {
      driver.connect("jdbc:derby:" + database + ";shutdown=true", new Properties());
    } catch (SQLException e) {
      if (!"08006".equals(e.getSQLState())) {
        LOG.warn("Spool database did not shut down cleanly", e);
      }
    }
    try {
      driver.connect("jdbc:derby:;shutdown=true", new Properties());
    } catch (SQLException e) {
      if (!"XJ015".equals(e.getSQLState())) {
        LOG.warn("Derby engine did not shut down cleanly", e);
      }
    }
  }

  private void createSchema() throws SQLException {
    Connection c = pool.borrow();
    try {
      DatabaseMetaData meta = c.getMetaData();
      try (ResultSet tables = meta.getTables(null, null, "SPOOL_META", null)) {
        if (tables.next()) {
          upgrade(c, version(c));
          return;
        }
      }
      try (Statement s = c.createStatement()) {
        s.executeUpdate("CREATE TABLE spool_meta (schema_version INT NOT NULL)");
        s.executeUpdate("INSERT INTO spool_meta VALUES (" + SCHEMA_VERSION + ")");
        s.executeUpdate(
            "CREATE TABLE message ("
                + " id VARCHAR(64) NOT NULL PRIMARY KEY,"
                + " sender VARCHAR(1024) NOT NULL,"
                + " created BIGINT NOT NULL,"
                + " size BIGINT NOT NULL,"
                + " tenant VARCHAR(255),"
                + " campaign VARCHAR(255),"
                + " reception_protocol VARCHAR(32),"
                + " remaining INT NOT NULL,"
                + " content BLOB(2G) NOT NULL)");
        s.executeUpdate(
            "CREATE TABLE queue_entry ("
                + " message_id VARCHAR(64) NOT NULL,"
                + " rcpt_index INT NOT NULL,"
                + " recipient VARCHAR(1024) NOT NULL,"
                + " queue VARCHAR(1024) NOT NULL,"
                + " created BIGINT NOT NULL,"
                + " due BIGINT NOT NULL,"
                + " attempts INT NOT NULL,"
                + " last_response VARCHAR(2048),"
                + " PRIMARY KEY (message_id, rcpt_index))");
        createAdminActionTable(s);
      }
      c.commit();
    } finally {
      pool.release(c);
    }
  }

  private static void createAdminActionTable(Statement s) throws SQLException {
    s.executeUpdate(
        "CREATE TABLE admin_action ("
            + " id VARCHAR(64) NOT NULL PRIMARY KEY,"
            + " kind VARCHAR(32) NOT NULL,"
            + " domain VARCHAR(255),"
            + " tenant VARCHAR(255),"
            + " campaign VARCHAR(255),"
            + " queue VARCHAR(1024),"
            + " site VARCHAR(1024),"
            + " reason VARCHAR(1024),"
            + " created BIGINT NOT NULL,"
            + " expires BIGINT)");
  }

  private static int version(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT schema_version FROM spool_meta")) {
      return rs.next() ? rs.getInt(1) : -1;
    }
  }

  /** Brings a spool written by an earlier version up to date, in one transaction. */
  private static void upgrade(Connection c, int version) throws SQLException {
    if (version == SCHEMA_VERSION) {
      return;
    }
    if (version != 1) {
      throw new SQLException(
          "spool schema version " + version + " is not one this version can read");
    }
    try (Statement s = c.createStatement()) {
      createAdminActionTable(s);
      s.executeUpdate("UPDATE spool_meta SET schema_version = " + SCHEMA_VERSION);
    }
    c.commit();
    LOG.info("Spool upgraded from schema version {} to {}", version, SCHEMA_VERSION);
  }

  @Override
  public void store(MessageRecord message, List<QueueEntry> entries, InputStream content) {
    try {
      Connection c = pool.borrow();
      try {
        try (PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO message (id, sender, created, size, tenant, campaign,"
                    + " reception_protocol, remaining, content) VALUES (?,?,?,?,?,?,?,?,?)")) {
          insert.setString(1, message.id());
          insert.setString(2, message.sender());
          insert.setLong(3, message.created().toEpochMilli());
          insert.setLong(4, message.size());
          setNullable(insert, 5, message.tenant());
          setNullable(insert, 6, message.campaign());
          setNullable(insert, 7, message.receptionProtocol());
          insert.setInt(8, entries.size());
          insert.setBinaryStream(9, content, message.size());
          insert.executeUpdate();
        }
        try (PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO queue_entry (message_id, rcpt_index, recipient, queue, created, due,"
                    + " attempts) VALUES (?,?,?,?,?,?,?)")) {
          for (QueueEntry entry : entries) {
            insert.setString(1, entry.key().messageId());
            insert.setInt(2, entry.key().index());
            insert.setString(3, entry.recipient());
            insert.setString(4, entry.queue());
            insert.setLong(5, entry.created().toEpochMilli());
            insert.setLong(6, entry.due().toEpochMilli());
            insert.setInt(7, entry.attempts());
            insert.addBatch();
          }
          insert.executeBatch();
        }
        c.commit();
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot store message " + message.id(), e);
    }
  }

  @Override
  public Optional<MessageRecord> message(String messageId) {
    try {
      Connection c = pool.borrow();
      try (PreparedStatement select =
          c.prepareStatement(
              "SELECT sender, created, size, tenant, campaign, reception_protocol"
                  + " FROM message WHERE id = ?")) {
        select.setString(1, messageId);
        try (ResultSet rs = select.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          return Optional.of(
              new MessageRecord(
                  messageId,
                  rs.getString(1),
                  Instant.ofEpochMilli(rs.getLong(2)),
                  rs.getLong(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getString(6)));
        }
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot read message " + messageId, e);
    }
  }

  @Override
  public InputStream openContent(String messageId) {
    Connection c = null;
    try {
      c = pool.borrow();
      PreparedStatement select = c.prepareStatement("SELECT content FROM message WHERE id = ?");
      select.setString(1, messageId);
      // Closing the statement closes the result set, and with it the stream: BlobStream does it.
      select.closeOnCompletion();
      ResultSet rs = select.executeQuery();
      if (!rs.next()) {
        rs.close();
        throw new SpoolException("message " + messageId + " is not in the spool");
      }
      BlobStream stream = new BlobStream(rs.getBinaryStream(1), rs, c, pool);
      c = null;
      return stream;
    } catch (SQLException e) {
      throw new SpoolException("cannot read the content of message " + messageId, e);
    } finally {
      if (c != null) {
        pool.release(c);
      }
    }
  }

  @Override
  public void forEachQueued(Consumer<QueueEntry> consumer) {
    try {
      Connection c = pool.borrow();
      try (Statement select = c.createStatement()) {
        // Stream the rows: a large spool must not be materialised by the driver first.
        select.setFetchSize(1000);
        try (ResultSet rs =
            select.executeQuery(
                "SELECT message_id, rcpt_index, recipient, queue, created, due, attempts"
                    + " FROM queue_entry")) {
          while (rs.next()) {
            consumer.accept(
                new QueueEntry(
                    new EntryKey(rs.getString(1), rs.getInt(2)),
                    rs.getString(3),
                    rs.getString(4),
                    Instant.ofEpochMilli(rs.getLong(5)),
                    Instant.ofEpochMilli(rs.getLong(6)),
                    rs.getInt(7)));
          }
        }
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot list the queued entries", e);
    }
  }

  @Override
  public void reschedule(EntryKey key, Instant due, int attempts, String lastResponse) {
    try {
      Connection c = pool.borrow();
      try (PreparedStatement update =
          c.prepareStatement(
              "UPDATE queue_entry SET due = ?, attempts = ?, last_response = ?"
                  + " WHERE message_id = ? AND rcpt_index = ?")) {
        update.setLong(1, due.toEpochMilli());
        update.setInt(2, attempts);
        setNullable(update, 3, truncate(lastResponse, 2048));
        update.setString(4, key.messageId());
        update.setInt(5, key.index());
        if (update.executeUpdate() != 1) {
          throw new SpoolException("entry " + key + " is not in the spool");
        }
        c.commit();
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot reschedule " + key, e);
    }
  }

  @Override
  public void remove(EntryKey key) {
    try {
      Connection c = pool.borrow();
      try {
        // The message row is locked first by every remover of the same message, so concurrent
        // removals serialise on it instead of deadlocking on each other's entry rows.
        try (PreparedStatement count =
            c.prepareStatement("UPDATE message SET remaining = remaining - 1 WHERE id = ?")) {
          count.setString(1, key.messageId());
          count.executeUpdate();
        }
        int removed;
        try (PreparedStatement delete =
            c.prepareStatement("DELETE FROM queue_entry WHERE message_id = ? AND rcpt_index = ?")) {
          delete.setString(1, key.messageId());
          delete.setInt(2, key.index());
          removed = delete.executeUpdate();
        }
        if (removed != 1) {
          c.rollback();
          return;
        }
        try (PreparedStatement delete =
            c.prepareStatement("DELETE FROM message WHERE id = ? AND remaining <= 0")) {
          delete.setString(1, key.messageId());
          delete.executeUpdate();
        }
        c.commit();
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot remove " + key, e);
    }
  }

  @Override
  public void update(List<EntryKey> done, List<Retry> retries) {
    if (done.isEmpty() && retries.isEmpty()) {
      return;
    }
    // Entries of one message together, messages in a fixed order: every writer locks message rows
    // in the same order, so concurrent writers wait for each other instead of deadlocking.
    Map<String, List<Integer>> byMessage = new TreeMap<>();
    for (EntryKey key : done) {
      byMessage.computeIfAbsent(key.messageId(), k -> new ArrayList<>()).add(key.index());
    }
    try {
      Connection c = pool.borrow();
      try (PreparedStatement count =
              c.prepareStatement("UPDATE message SET remaining = remaining - ? WHERE id = ?");
          PreparedStatement deleteEntry =
              c.prepareStatement(
                  "DELETE FROM queue_entry WHERE message_id = ? AND rcpt_index = ?");
          PreparedStatement deleteMessage =
              c.prepareStatement("DELETE FROM message WHERE id = ? AND remaining <= 0");
          PreparedStatement reschedule =
              c.prepareStatement(
                  "UPDATE queue_entry SET due = ?, attempts = ?, last_response = ?"
                      + " WHERE message_id = ? AND rcpt_index = ?")) {
        for (Map.Entry<String, List<Integer>> message : byMessage.entrySet()) {
          // The message row first, as remove() does: removers of one message queue on it.
          int wanted = message.getValue().size();
          count.setInt(1, wanted);
          count.setString(2, message.getKey());
          if (count.executeUpdate() == 0) {
            continue;
          }
          int removed = 0;
          for (int index : message.getValue()) {
            deleteEntry.setString(1, message.getKey());
            deleteEntry.setInt(2, index);
            removed += deleteEntry.executeUpdate();
          }
          if (removed < wanted) {
            count.setInt(1, removed - wanted);
            count.setString(2, message.getKey());
            count.executeUpdate();
          }
          deleteMessage.setString(1, message.getKey());
          deleteMessage.executeUpdate();
        }
        for (Retry retry : retries) {
          reschedule.setLong(1, retry.due().toEpochMilli());
          reschedule.setInt(2, retry.attempts());
          setNullable(reschedule, 3, truncate(retry.lastResponse(), 2048));
          reschedule.setString(4, retry.key().messageId());
          reschedule.setInt(5, retry.key().index());
          reschedule.addBatch();
        }
        if (!retries.isEmpty()) {
          reschedule.executeBatch();
        }
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException(
          "cannot record " + done.size() + " removals and " + retries.size() + " retries", e);
    }
  }

  @Override
  public List<StoredEntry> entries(String messageId) {
    try {
      Connection c = pool.borrow();
      try (PreparedStatement select =
          c.prepareStatement(
              "SELECT rcpt_index, recipient, queue, created, due, attempts, last_response"
                  + " FROM queue_entry WHERE message_id = ? ORDER BY rcpt_index")) {
        select.setString(1, messageId);
        List<StoredEntry> entries = new ArrayList<>();
        try (ResultSet rs = select.executeQuery()) {
          while (rs.next()) {
            entries.add(
                new StoredEntry(
                    new QueueEntry(
                        new EntryKey(messageId, rs.getInt(1)),
                        rs.getString(2),
                        rs.getString(3),
                        Instant.ofEpochMilli(rs.getLong(4)),
                        Instant.ofEpochMilli(rs.getLong(5)),
                        rs.getInt(6)),
                    rs.getString(7)));
          }
        }
        return entries;
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot read the entries of message " + messageId, e);
    }
  }

  @Override
  public void saveAdminAction(AdminAction action) {
    try {
      Connection c = pool.borrow();
      try {
        try (PreparedStatement delete =
            c.prepareStatement("DELETE FROM admin_action WHERE id = ?")) {
          delete.setString(1, action.id());
          delete.executeUpdate();
        }
        try (PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO admin_action (id, kind, domain, tenant, campaign, queue, site,"
                    + " reason, created, expires) VALUES (?,?,?,?,?,?,?,?,?,?)")) {
          Selector selector = action.selector();
          insert.setString(1, action.id());
          insert.setString(2, action.kind().name());
          setNullable(insert, 3, selector == null ? null : selector.domain());
          setNullable(insert, 4, selector == null ? null : selector.tenant());
          setNullable(insert, 5, selector == null ? null : selector.campaign());
          setNullable(insert, 6, selector == null ? null : selector.queue());
          setNullable(insert, 7, action.site());
          setNullable(insert, 8, truncate(action.reason(), 1024));
          insert.setLong(9, action.created().toEpochMilli());
          if (action.expires() == null) {
            insert.setNull(10, Types.BIGINT);
          } else {
            insert.setLong(10, action.expires().toEpochMilli());
          }
          insert.executeUpdate();
        }
        c.commit();
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot save admin action " + action.id(), e);
    }
  }

  @Override
  public void deleteAdminAction(String id) {
    try {
      Connection c = pool.borrow();
      try (PreparedStatement delete = c.prepareStatement("DELETE FROM admin_action WHERE id = ?")) {
        delete.setString(1, id);
        delete.executeUpdate();
        c.commit();
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot delete admin action " + id, e);
    }
  }

  @Override
  public List<AdminAction> adminActions() {
    try {
      Connection c = pool.borrow();
      try (Statement select = c.createStatement();
          ResultSet rs =
              select.executeQuery(
                  "SELECT id, kind, domain, tenant, campaign, queue, site, reason, created,"
                      + " expires FROM admin_action ORDER BY created")) {
        List<AdminAction> actions = new ArrayList<>();
        while (rs.next()) {
          AdminAction.Kind kind = AdminAction.Kind.valueOf(rs.getString(2));
          String site = rs.getString(7);
          Selector selector =
              kind == AdminAction.Kind.SUSPEND_READY
                  ? null
                  : new Selector(
                      rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6));
          long expiresMillis = rs.getLong(10);
          Instant expires = rs.wasNull() ? null : Instant.ofEpochMilli(expiresMillis);
          actions.add(
              new AdminAction(
                  rs.getString(1),
                  kind,
                  selector,
                  site,
                  rs.getString(8),
                  Instant.ofEpochMilli(rs.getLong(9)),
                  expires));
        }
        return actions;
      } finally {
        pool.release(c);
      }
    } catch (SQLException e) {
      throw new SpoolException("cannot list the admin actions", e);
    }
  }

  private static void setNullable(PreparedStatement statement, int index, String value)
      throws SQLException {
    if (value == null) {
      statement.setNull(index, Types.VARCHAR);
    } else {
      statement.setString(index, value);
    }
  }

  private static String truncate(String value, int max) {
    return value == null || value.length() <= max ? value : value.substring(0, max);
  }
}
