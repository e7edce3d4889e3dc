package org.postilion.shell;

import java.util.Collection;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.ScheduledQueueStatus;
import org.postilion.api.queue.QueueName;

/** Completes the names of the scheduled queues that hold mail now; subclasses complete parts. */
@Service
public class QueueNameCompleter extends AdminCompleter {

  @Override
  Collection<String> values() {
    TreeSet<String> values = new TreeSet<>();
    for (ScheduledQueueStatus queue : admin.summary().scheduled()) {
      String value = part().apply(QueueName.parse(queue.name()));
      if (value != null) {
        values.add(value);
      }
    }
    return values;
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
