package org.postilion.shell;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "mta", name = "bounce-cancel", description = "Ends an admin bounce early")
public class BounceCancelCommand extends AdminCommand {

  @Argument(index = 0, name = "id", description = "Bounce id", required = true)
  @Completion(IdCompleters.Bounces.class)
  String id;

  @Override
  Object run() {
    if (!admin.cancelBounce(id)) {
      throw new IllegalArgumentException("no bounce " + id + " is in force");
    }
    out().println("Bounce " + id + " cancelled");
    return null;
  }
}
