package org.postilion.queue.shell;

import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.queue.QueueName;

/** Completes the names of the scheduled queues that hold mail now; subclasses complete parts. */
@Service
public class QueueNameCompleter implements Completer {

  @Reference QueueAdmin admin;

  @Override
  public int complete(Session session, CommandLine commandLine, List<String> candidates) {
    TreeSet<String> values = new TreeSet<>();
    for (ScheduledQueueStatus queue : admin.summary().scheduled()) {
      String value = part().apply(QueueName.parse(queue.name()));
      if (value != null) {
        values.add(value);
      }
    }
    return new StringsCompleter(values).complete(session, commandLine, candidates);
  }

  Function<QueueName, String> part() {
    return QueueName::toString;
  }

  /** Completes recipient domains. */
  @Service
  public static class Domains extends QueueNameCompleter {
    @Override
    Function<QueueName, String> part() {
      return QueueName::domain;
    }
  }

  /** Completes tenants. */
  @Service
  public static class Tenants extends QueueNameCompleter {
    @Override
    Function<QueueName, String> part() {
      return QueueName::tenant;
    }
  }

  /** Completes campaigns. */
  @Service
  public static class Campaigns extends QueueNameCompleter {
    @Override
    Function<QueueName, String> part() {
      return QueueName::campaign;
    }
  }
}
