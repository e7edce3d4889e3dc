package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.AdminAction;

@Service
@Command(
    scope = "mta",
    name = "suspend",
    description =
        "Holds the mail of the chosen scheduled queues, or of a destination site's ready queues,"
            + " until resumed or the duration ends; kept across restarts")
public class SuspendCommand extends SelectorCommand {

  @Option(name = "--site", description = "Suspend the ready queues of this destination site")
  @Completion(IdCompleters.Sites.class)
  String site;

  @Option(name = "--duration", description = "How long, e.g. 30m or 2h; default until resumed")
  String duration;

  @Option(name = "--reason", description = "Why, for the listing and the log")
  String reason;

  @Override
  Object run() {
    AdminAction action;
    if (site != null) {
      if (hasSelector()) {
        throw new IllegalArgumentException("give --site or queue options, not both");
      }
      action = admin.suspendReady(site, Views.duration(duration, "--duration"), reason);
    } else {
      action = admin.suspend(selector(), Views.duration(duration, "--duration"), reason);
    }
    out()
        .println(
            "Suspended "
                + action.target()
                + (action.expires() == null ? " until resumed" : " until " + action.expires())
                + " (id "
                + action.id()
                + ")");
    return null;
  }
}
