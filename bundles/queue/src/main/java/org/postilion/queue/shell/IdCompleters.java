package org.postilion.queue.shell;

import java.util.List;
import java.util.TreeSet;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueuedRecipient;

/** Completers for ids: queued messages, suspensions, bounces. */
public final class IdCompleters {
  private IdCompleters() {}

  /** The ids of the oldest queued messages. */
  @Service
  public static class Messages implements Completer {
    @Reference QueueAdmin admin;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
      TreeSet<String> ids = new TreeSet<>();
      for (QueuedRecipient recipient : admin.list(null, 500)) {
        ids.add(recipient.messageId());
      }
      return new StringsCompleter(ids).complete(session, commandLine, candidates);
    }
  }

  /** The ids of the suspensions in force. */
  @Service
  public static class Suspensions implements Completer {
    @Reference QueueAdmin admin;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
      List<String> ids = admin.suspensions().stream().map(AdminAction::id).toList();
      return new StringsCompleter(ids).complete(session, commandLine, candidates);
    }
  }

  /** The ids of the bounces in force. */
  @Service
  public static class Bounces implements Completer {
    @Reference QueueAdmin admin;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
      List<String> ids = admin.bounces().stream().map(AdminAction::id).toList();
      return new StringsCompleter(ids).complete(session, commandLine, candidates);
    }
  }

  /** The destination sites that have ready queues. */
  @Service
  public static class Sites implements Completer {
    @Reference QueueAdmin admin;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
      TreeSet<String> sites = new TreeSet<>();
      admin.summary().ready().forEach(r -> sites.add(r.site()));
      return new StringsCompleter(sites).complete(session, commandLine, candidates);
    }
  }
}
