package org.postilion.shell;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.XferStatus;

/** KumoMTA's {@code kcli xfer-cancel}: stops an xfer; what it had not moved stays here. */
@Service
@Command(
    scope = "mta",
    name = "xfer-cancel",
    description =
        "Stops an xfer by its name (mta:xfer-list); its untransferred mail goes back to its queues")
public class XferCancelCommand extends AdminCommand {

  @Argument(
      name = "name",
      required = true,
      description = "The xfer's name, e.g. http://node-b:8000/.xfer.postilion.internal")
  String name;

  @Option(name = "--reason", description = "Why; it goes into the log")
  String reason;

  @Override
  Object run() {
    XferStatus status =
        admin
            .cancelXfer(name, reason)
            .orElseThrow(() -> new IllegalArgumentException("no xfer " + name));
    out()
        .println(
            status.name()
                + " "
                + status.state()
                + ": "
                + status.transferred()
                + " recipients transferred, "
                + status.returned()
                + " back in their queues");
    return null;
  }
}
