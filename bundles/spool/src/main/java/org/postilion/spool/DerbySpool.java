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
  private static final int SCHEMA_VERSION = 3;

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
  private SpoolWriter writer;
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
      tuneDerby();
      directory = dir.toAbsolutePath();
      dataSource = new EmbeddedDataSource();
      dataSource.setDatabaseName(dir.toAbsolutePath().toString());
      dataSource.setCreateDatabase("create");
      pool = new ConnectionPool(dataSource, maxIdleConnections);
      createSchema();
      writer = new SpoolWriter(pool);
      LOG.info("Spool open at {}", dir.toAbsolutePath());
    } catch (Exception e) {
      throw new SpoolException("cannot open the spool at " + dir.toAbsolutePath(), e);
    }
  }

  /**
   * Derby's defaults suit small transactions on a fast disk and tables of stable size. The spool
   * writes groups of messages (bodies included) in one transaction and forces the log once per
   * group: a log buffer that holds a whole group and one sync per commit, instead of a synchronous
   * write per 32 KB, make a group cost one disk sync. Set before the engine boots; an operator's
   * own setting wins.
   */
  private static void tuneDerby() {
    setIfAbsent("derby.storage.logBufferSize", String.valueOf(4 * 1024 * 1024));
    setIfAbsent("derby.storage.fileSyncTransactionLog", "true");
    setIfAbsent("derby.storage.pageCacheSize", "4000");
    // Derby starts a new log file every megabyte by default, and each switch allocates fresh log
    // buffers (three of logBufferSize): at spool rates that was a new 12 MB every few hundred
    // messages. A checkpoint every 64 MB of log, not 10, writes each short-lived page less often;
    // recovery after a crash replays at most that much log.
    setIfAbsent("derby.storage.logSwitchInterval", String.valueOf(64 * 1024 * 1024));
    setIfAbsent("derby.storage.checkpointInterval", String.valueOf(64 * 1024 * 1024));
    // Every statement here is a primary-key lookup: its plan never needs to change, while a
    // queue's tables grow and shrink all the time. Derby would recompile statements (into new
    // generated classes, for the JIT to compile again) each time a table's size moved.
    setIfAbsent("derby.language.stalePlanCheckInterval", String.valueOf(Integer.MAX_VALUE));
    setIfAbsent("derby.storage.indexStats.auto", "false");
  }

  private static void setIfAbsent(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }

  @Override
  public Path folder() {
    return directory;
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
    if (writer != null) {
      writer.close();
    }
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
        // A message of ordinary size then fits its row's page instead of a chain of 4 KB pages.
        s.execute("CALL SYSCS_UTIL.SYSCS_SET_DATABASE_PROPERTY('derby.storage.pageSize', '32768')");
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
                + " content BLOB(2G) NOT NULL,"
                + LOG_DATA_COLUMN
                + ")");
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
    if (version != 1 && version != 2) {
      throw new SQLException(
          "spool schema version " + version + " is not one this version can read");
    }
    try (Statement s = c.createStatement()) {
      if (version == 1) {
        createAdminActionTable(s);
      }
      s.executeUpdate("ALTER TABLE message ADD COLUMN" + LOG_DATA_COLUMN);
      s.executeUpdate("UPDATE spool_meta SET schema_version = " + SCHEMA_VERSION);
    }
    c.commit();
    LOG.info("Spool upgraded from schema version {} to {}", version, SCHEMA_VERSION);
  }

  @Override
  public void store(MessageRecord message, List<QueueEntry> entries, InputStream content) {
    try {
      writer.write(c -> insert(c, message, entries, content), message.size());
    } catch (SQLException e) {
      throw new SpoolException("cannot store message " + message.id(), e);
    }
  }

  /** Schema 3: the header fields and meta values every record of the message captures. */
  private static final String LOG_DATA_COLUMN = " log_data VARCHAR(" + LogData.MAX_LENGTH + ")";

  private static final String INSERT_MESSAGE =
      "INSERT INTO message (id, sender, created, size, tenant, campaign,"
          + " reception_protocol, remaining, content, log_data) VALUES (?,?,?,?,?,?,?,?,?,?)";
  private static final String INSERT_ENTRY =
      "INSERT INTO queue_entry (message_id, rcpt_index, recipient, queue, created, due,"
          + " attempts) VALUES (?,?,?,?,?,?,?)";
  private static final String DELETE_ENTRY =
      "DELETE FROM queue_entry WHERE message_id = ? AND rcpt_index = ?";
  // The remaining column is no longer kept up to date: a message goes with its last entry.
  private static final String DELETE_MESSAGE =
      "DELETE FROM message WHERE id = ?"
          + " AND NOT EXISTS (SELECT 1 FROM queue_entry WHERE message_id = ?)";
  private static final String RESCHEDULE =
      "UPDATE queue_entry SET due = ?, attempts = ?, last_response = ?"
          + " WHERE message_id = ? AND rcpt_index = ?";

  private static void insert(
      SpoolWriter.Statements statements,
      MessageRecord message,
      List<QueueEntry> entries,
      InputStream content)
      throws SQLException {
    PreparedStatement insert = statements.get(INSERT_MESSAGE);
    insert.setString(1, message.id());
    insert.setString(2, message.sender());
    insert.setLong(3, message.created().toEpochMilli());
    insert.setLong(4, message.size());
    setNullable(insert, 5, message.tenant());
    setNullable(insert, 6, message.campaign());
    setNullable(insert, 7, message.receptionProtocol());
    insert.setInt(8, entries.size());
    insert.setBinaryStream(9, content, message.size());
    setNullable(insert, 10, LogData.encode(message.logHeaders(), message.logMeta()));
    insert.executeUpdate();
    PreparedStatement entry = statements.get(INSERT_ENTRY);
    for (QueueEntry queued : entries) {
      entry.setString(1, queued.key().messageId());
      entry.setInt(2, queued.key().index());
      entry.setString(3, queued.recipient());
      entry.setString(4, queued.queue());
      entry.setLong(5, queued.created().toEpochMilli());
      entry.setLong(6, queued.due().toEpochMilli());
      entry.setInt(7, queued.attempts());
      entry.executeUpdate();
    }
  }

  @Override
  public Optional<MessageRecord> message(String messageId) {
    try {
      Connection c = pool.borrow();
      try (PreparedStatement select =
          c.prepareStatement(
              "SELECT sender, created, size, tenant, campaign, reception_protocol, log_data"
                  + " FROM message WHERE id = ?")) {
        select.setString(1, messageId);
        try (ResultSet rs = select.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          Map<String, String>[] logged = LogData.decode(rs.getString(7));
          return Optional.of(
              new MessageRecord(
                  messageId,
                  rs.getString(1),
                  Instant.ofEpochMilli(rs.getLong(2)),
                  rs.getLong(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getString(6),
                  logged[0],
                  logged[1]));
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
    update(List.of(), List.of(new Retry(key, due, attempts, lastResponse)));
  }

  @Override
  public void remove(EntryKey key) {
    update(List.of(key), List.of());
  }

  @Override
  public void update(List<EntryKey> done, List<Retry> retries) {
    if (done.isEmpty() && retries.isEmpty()) {
      return;
    }
    try {
      writer.write(c -> apply(c, done, retries), 0);
    } catch (SQLException e) {
      throw new SpoolException(
          "cannot record " + done.size() + " removals and " + retries.size() + " retries", e);
    }
  }

  private static void apply(
      SpoolWriter.Statements statements, List<EntryKey> done, List<Retry> retries)
      throws SQLException {
    // Entries of one message together, then the message when it has none left.
    Map<String, List<Integer>> byMessage = new TreeMap<>();
    for (EntryKey key : done) {
      byMessage.computeIfAbsent(key.messageId(), k -> new ArrayList<>()).add(key.index());
    }
    PreparedStatement deleteEntry = statements.get(DELETE_ENTRY);
    PreparedStatement deleteMessage = statements.get(DELETE_MESSAGE);
    for (Map.Entry<String, List<Integer>> message : byMessage.entrySet()) {
      int removed = 0;
      for (int index : message.getValue()) {
        deleteEntry.setString(1, message.getKey());
        deleteEntry.setInt(2, index);
        removed += deleteEntry.executeUpdate();
      }
      if (removed == 0) {
        continue;
      }
      deleteMessage.setString(1, message.getKey());
      deleteMessage.setString(2, message.getKey());
      deleteMessage.executeUpdate();
    }
    PreparedStatement reschedule = statements.get(RESCHEDULE);
    for (Retry retry : retries) {
      reschedule.setLong(1, retry.due().toEpochMilli());
      reschedule.setInt(2, retry.attempts());
      setNullable(reschedule, 3, truncate(retry.lastResponse(), 2048));
      reschedule.setString(4, retry.key().messageId());
      reschedule.setInt(5, retry.key().index());
      reschedule.executeUpdate();
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
