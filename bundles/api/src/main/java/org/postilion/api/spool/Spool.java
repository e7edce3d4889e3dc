package org.postilion.api.spool;

import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.postilion.api.admin.AdminAction;

/**
 * Durable storage of messages, their queue entries and the operator's admin actions. Every method
 * that changes state returns only once the change is on disk: a crash right after the return loses
 * nothing.
 */
public interface Spool {

  /** Stores a message, its bytes and one entry per recipient in one transaction. */
  void store(MessageRecord message, List<QueueEntry> entries, InputStream content);

  /** The message's metadata, or empty when no entry refers to it any more. */
  Optional<MessageRecord> message(String messageId);

  /** The message's queued entries with the reply to each one's last attempt. */
  List<StoredEntry> entries(String messageId);

  /**
   * A stream over the message's bytes, read from storage as it is consumed; the caller closes it.
   *
   * @throws SpoolException when the message is not in the spool
   */
  InputStream openContent(String messageId);

  /** Calls {@code consumer} for every queued entry; metadata only, no message bytes are loaded. */
  void forEachQueued(Consumer<QueueEntry> consumer);

  /** Records a failed attempt and when the next one is due. */
  void reschedule(EntryKey key, Instant due, int attempts, String lastResponse);

  /** Removes an entry that is done with; the message goes too once it has no entries left. */
  void remove(EntryKey key);

  /**
   * The outcomes of many attempts in one transaction, one commit for all (group commit): the
   * entries {@code done} with go, as by {@link #remove}, and {@code retries} get their next due
   * time, as by {@link #reschedule}. An entry no longer in the spool is passed over.
   */
  void update(List<EntryKey> done, List<Retry> retries);

  /** Keeps a suspension or bounce, replacing one with the same id. */
  void saveAdminAction(AdminAction action);

  void deleteAdminAction(String id);

  List<AdminAction> adminActions();

  /** Bytes the spool takes on disk now; cheap enough to ask on every metrics scrape. */
  long sizeOnDisk();

  /** The folder the spool keeps its files in, whose free space is watched; null when none. */
  default Path folder() {
    return null;
  }

  /** A queued entry and the reply to its last attempt ({@code null} before the first). */
  record StoredEntry(QueueEntry entry, String lastResponse) {}

  /** A failed attempt: when the entry is due again, and why it failed. */
  record Retry(EntryKey key, Instant due, int attempts, String lastResponse) {}
}
