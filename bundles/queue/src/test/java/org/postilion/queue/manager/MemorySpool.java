package org.postilion.queue.manager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.spool.EntryKey;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;

/** A spool in memory for the queue manager's tests, counting its transactions. */
final class MemorySpool implements Spool {
  private final Map<String, MessageRecord> messages = new LinkedHashMap<>();
  private final Map<String, byte[]> contents = new LinkedHashMap<>();
  private final Map<EntryKey, StoredEntry> entries = new LinkedHashMap<>();
  private final Map<String, AdminAction> actions = new LinkedHashMap<>();
  final AtomicInteger updates = new AtomicInteger();
  final AtomicInteger removals = new AtomicInteger();
  volatile boolean failUpdates;

  @Override
  public synchronized void store(MessageRecord message, List<QueueEntry> queued, InputStream in) {
    try {
      contents.put(message.id(), in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    messages.put(message.id(), message);
    for (QueueEntry entry : queued) {
      entries.put(entry.key(), new StoredEntry(entry, null));
    }
  }

  @Override
  public synchronized Optional<MessageRecord> message(String messageId) {
    return Optional.ofNullable(messages.get(messageId));
  }

  @Override
  public synchronized List<StoredEntry> entries(String messageId) {
    return entries.values().stream()
        .filter(e -> e.entry().key().messageId().equals(messageId))
        .toList();
  }

  @Override
  public synchronized InputStream openContent(String messageId) {
    byte[] bytes = contents.get(messageId);
    if (bytes == null) {
      throw new SpoolException("message " + messageId + " is not in the spool");
    }
    return new ByteArrayInputStream(bytes);
  }

  @Override
  public synchronized void forEachQueued(Consumer<QueueEntry> consumer) {
    new ArrayList<>(entries.values()).forEach(e -> consumer.accept(e.entry()));
  }

  @Override
  public synchronized void reschedule(EntryKey key, Instant due, int attempts, String last) {
    update(List.of(), List.of(new Retry(key, due, attempts, last)));
  }

  @Override
  public synchronized void remove(EntryKey key) {
    update(List.of(key), List.of());
  }

  @Override
  public synchronized void update(List<EntryKey> done, List<Retry> retries) {
    if (failUpdates) {
      throw new SpoolException("the disk is full (test)");
    }
    updates.incrementAndGet();
    for (EntryKey key : done) {
      if (entries.remove(key) != null) {
        removals.incrementAndGet();
      }
      String id = key.messageId();
      if (entries.keySet().stream().noneMatch(k -> k.messageId().equals(id))) {
        messages.remove(id);
        contents.remove(id);
      }
    }
    for (Retry retry : retries) {
      StoredEntry stored = entries.get(retry.key());
      if (stored != null) {
        QueueEntry entry = stored.entry();
        entries.put(
            retry.key(),
            new StoredEntry(
                new QueueEntry(
                    entry.key(),
                    entry.recipient(),
                    entry.queue(),
                    entry.created(),
                    retry.due(),
                    retry.attempts()),
                retry.lastResponse()));
      }
    }
  }

  @Override
  public synchronized void saveAdminAction(AdminAction action) {
    actions.put(action.id(), action);
  }

  @Override
  public synchronized void deleteAdminAction(String id) {
    actions.remove(id);
  }

  @Override
  public synchronized List<AdminAction> adminActions() {
    return List.copyOf(actions.values());
  }

  @Override
  public long sizeOnDisk() {
    return 0;
  }

  synchronized int queuedEntries() {
    return entries.size();
  }

  synchronized StoredEntry entry(EntryKey key) {
    return entries.get(key);
  }
}
