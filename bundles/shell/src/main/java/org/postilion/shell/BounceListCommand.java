package org.postilion.shell;

import java.time.Instant;
import java.util.Map;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.KumoListEntries;

@Service
@Command(scope = "mta", name = "bounce-list", description = "The admin bounces in force")
public class BounceListCommand extends SuspendListCommand {

  @Override
  Object run() {
    print(admin.bounces(), "no bounces");
    return null;
  }

  @Override
  Map<String, Object> kumoEntry(AdminAction bounce, Instant now) {
    return KumoListEntries.bounce(bounce, admin.bounced(bounce.id()), now);
  }
}
