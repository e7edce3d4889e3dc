package org.postilion.shell;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.postilion.api.admin.XferStatus;

/**
 * KumoMTA's {@code kcli xfer}: moves the chosen queues' mail to another node over its HTTP API, in
 * the background. Each message leaves this spool only once the other node has it on disk.
 */
@Service
@Command(
    scope = "mta",
    name = "xfer",
    description =
        "Moves the chosen queues' mail to another Postilion node (XferOut records here, XferIn"
            + " there); runs in the background: see mta:xfer-list")
public class XferCommand extends SelectorCommand {

  @Option(
      name = "--target",
      required = true,
      description =
          "The other node's HTTP API, e.g. https://node-b:8000 (https://user:password@node-b:8000"
              + " for a user with the admin role there)")
  String target;

  @Option(name = "--reason", description = "Why; it goes into the records")
  String reason;

  @Override
  Object run() {
    XferStatus status = admin.xfer(selector(), target, reason);
    out()
        .println(
            status.taken()
                + " recipients of "
                + selector()
                + " being transferred by "
                + status.name()
                + " (mta:xfer-list shows how far it got)");
    return null;
  }
}
