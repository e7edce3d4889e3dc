package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(
    scope = "mta",
    name = "retry-now",
    description = "Makes the chosen queues' waiting mail due now")
public class RetryNowCommand extends SelectorCommand {

  @Override
  Object run() {
    int count = admin.retryNow(selector());
    out().println(count + " recipients of " + selector() + " are due now");
    return null;
  }
}
