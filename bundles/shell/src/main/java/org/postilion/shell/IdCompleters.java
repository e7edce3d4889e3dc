package org.postilion.shell;

import java.util.Collection;
import java.util.TreeSet;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.QueuedRecipient;

/** Completers for ids: queued messages, suspensions, bounces; and for sites. */
public final class IdCompleters {
  private IdCompleters() {}

  /** The ids of the oldest queued messages. */
  @Service
  public static class Messages extends AdminCompleter {
    @Override
    Collection<String> values() {
      TreeSet<String> ids = new TreeSet<>();
      for (QueuedRecipient recipient : admin.list(null, 500)) {
        ids.add(recipient.messageId());
      }
      return ids;
    }
  }

  /** The ids of the suspensions in force. */
  @Service
  public static class Suspensions extends AdminCompleter {
    @Override
    Collection<String> values() {
      return admin.suspensions().stream().map(AdminAction::id).toList();
    }
  }

  /** The ids of the bounces in force. */
  @Service
  public static class Bounces extends AdminCompleter {
    @Override
    Collection<String> values() {
      return admin.bounces().stream().map(AdminAction::id).toList();
    }
  }

  /** The destination sites that have ready queues. */
  @Service
  public static class Sites extends AdminCompleter {
    @Override
    Collection<String> values() {
      TreeSet<String> sites = new TreeSet<>();
      admin.readyQueues().forEach(r -> sites.add(r.site()));
      return sites;
    }
  }

  /** The ready queues by name. */
  @Service
  public static class ReadyQueues extends AdminCompleter {
    @Override
    Collection<String> values() {
      TreeSet<String> names = new TreeSet<>();
      admin.readyQueues().forEach(r -> names.add(r.name()));
      return names;
    }
  }
}
