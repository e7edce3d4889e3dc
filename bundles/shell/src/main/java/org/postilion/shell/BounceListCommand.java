package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;

@Service
@Command(scope = "mta", name = "bounce-list", description = "The admin bounces in force")
public class BounceListCommand extends SuspendListCommand {

  @Override
  Object run() {
    print(admin.bounces(), "no bounces");
    return null;
  }
}
