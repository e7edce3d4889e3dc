package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.QueueAdmin;

@Service
@Command(
    scope = "mta",
    name = "bounce",
    description =
        "Bounces the chosen queues' mail now (AdminBounce records), and mail that arrives for them"
            + " while the bounce lasts (default 5 minutes)")
public class BounceCommand extends SelectorCommand {

  @Option(name = "--duration", description = "How long arriving mail is bounced too, e.g. 1h")
  String duration;

  @Option(name = "--reason", description = "Why; it goes into the records")
  String reason;

  @Override
  Object run() {
    QueueAdmin.BounceOutcome outcome =
        admin.bounce(selector(), Views.duration(duration, "--duration"), reason);
    out()
        .println(
            "Bouncing "
                + outcome.bounced()
                + " queued recipients of "
                + outcome.bounce().target()
                + "; arriving mail too until "
                + outcome.bounce().expires()
                + " (id "
                + outcome.bounce().id()
                + ")");
    return null;
  }
}
