package org.postilion.shell;

import java.util.List;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.AdminAction;

@Service
@Command(
    scope = "mta",
    name = "resume",
    description = "Ends a suspension, by id or by the same options it was made with")
public class ResumeCommand extends SelectorCommand {

  @Argument(index = 0, name = "id", description = "Suspension id", required = false)
  @Completion(IdCompleters.Suspensions.class)
  String id;

  @Override
  Object run() {
    List<AdminAction> ended = admin.resume(id, hasSelector() ? selector() : null);
    if (ended.isEmpty()) {
      throw new IllegalArgumentException(
          "no suspension " + (id != null ? id : "of " + selector()) + " is in force");
    }
    for (AdminAction action : ended) {
      out().println("Resumed " + action.target() + " (id " + action.id() + ")");
    }
    return null;
  }
}
