package org.postilion.shell;

import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.postilion.api.admin.Selector;

/** A command that applies to queues chosen by domain, tenant, campaign or queue name. */
abstract class SelectorCommand extends AdminCommand {

  @Option(name = "--domain", description = "Recipient domain")
  @Completion(QueueNameCompleter.Domains.class)
  String domain;

  @Option(name = "--tenant", description = "Tenant")
  @Completion(QueueNameCompleter.Tenants.class)
  String tenant;

  @Option(name = "--campaign", description = "Campaign")
  @Completion(QueueNameCompleter.Campaigns.class)
  String campaign;

  @Option(name = "--queue", description = "Scheduled queue name, campaign:tenant@domain")
  @Completion(QueueNameCompleter.class)
  String queue;

  boolean hasSelector() {
    return domain != null || tenant != null || campaign != null || queue != null;
  }

  /** The selector the options give; refused when none was given. */
  Selector selector() {
    return new Selector(domain, tenant, campaign, queue);
  }
}
