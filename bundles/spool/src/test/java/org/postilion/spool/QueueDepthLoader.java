package org.postilion.spool;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.Selector;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Benchmark tool, not a test: fills a spool with N one-recipient messages for one domain, as the
 * queue-depth benchmark (bench/queue-million) needs before it starts the server on that spool. Run
 * with {@code -Dderby.system.durability=test} so filling skips the per-commit fsync that the server
 * itself always does.
 *
 * <p>Arguments: spool folder, message count, body bytes, recipient domain. The domain is also
 * suspended, as an operator would before a destination's maintenance, so the server starts with all
 * of it held.
 */
public final class QueueDepthLoader {
  private static final Logger LOG = LoggerFactory.getLogger(QueueDepthLoader.class);

  private QueueDepthLoader() {}

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    int size = Integer.parseInt(args[2]);
    String domain = args[3];
    StringBuilder body = new StringBuilder("From: bench@bench.test\r\nSubject: depth\r\n\r\n");
    while (body.length() < size) {
      body.append("0123456789012345678901234567890123456789012345678901234567890123456789012\r\n");
    }
    byte[] content = body.toString().getBytes(StandardCharsets.US_ASCII);
    DerbySpool spool = new DerbySpool();
    spool.open(dir, 4);
    long start = System.nanoTime();
    Instant now = Instant.now();
    for (int i = 0; i < count; i++) {
      String id = String.format("%012x%020x", now.toEpochMilli(), (long) i);
      String recipient = "rcpt" + i + "@" + domain;
      spool.store(
          new MessageRecord(id, "bench@bench.test", now, content.length, null, null, "ESMTP"),
          List.of(new QueueEntry(new EntryKey(id, 0), recipient, domain, now, now, 0)),
          new ByteArrayInputStream(content));
      if ((i + 1) % 100_000 == 0) {
        LOG.info("{} messages stored", i + 1);
      }
    }
    spool.saveAdminAction(
        new AdminAction(
            "queue-depth-benchmark",
            AdminAction.Kind.SUSPEND,
            new Selector(domain, null, null, null),
            null,
            "queue depth benchmark",
            now,
            null));
    spool.close();
    LOG.info(
        "Stored {} messages of {} bytes in {} s",
        count,
        content.length,
        (System.nanoTime() - start) / 1_000_000_000L);
  }
}
