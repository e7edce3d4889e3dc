package org.postilion.shell;

import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.Session;
import org.postilion.api.admin.QueueAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every {@code mta:*} command shares: the queue admin service, and bad input answered with a
 * plain message instead of a stack trace.
 */
abstract class AdminCommand implements Action {
  private static final Logger LOG = LoggerFactory.getLogger(AdminCommand.class);

  @Reference QueueAdmin admin;

  /** The shell session, whose console is where the output goes. */
  @Reference Session session;

  PrintStream out() {
    return session.getConsole();
  }

  @Override
  public final Object execute() throws Exception {
    try {
      return run();
    } catch (IllegalArgumentException e) {
      LOG.debug("Command refused", e);
      return "Error: " + e.getMessage();
    }
  }

  abstract Object run() throws Exception;
}
