package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(
    scope = "mta",
    name = "rebind",
    description =
        "Applies the queue configuration in force now to the chosen queues' waiting mail and makes"
            + " it due now (AdminRebind records), e.g. after moving a domain to a smarthost")
public class RebindCommand extends SelectorCommand {

  @Option(name = "--reason", description = "Why; it goes into the records")
  String reason;

  @Override
  Object run() {
    int count = admin.rebind(selector(), reason);
    out().println(count + " recipients of " + selector() + " rebound");
    return null;
  }
}
