package org.postilion.shell;

import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.CommandException;
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
      throw refused(e);
    }
  }

  /**
   * Bad input as the shell reports it: the console prints {@code Error: ...} without a stack trace,
   * and {@code bin/client} exits with status 1. (A returned string would be lost to {@code
   * bin/client}, which prints only what a command writes, and would exit 0.)
   */
  static CommandException refused(Exception e) {
    return new CommandException("Error: " + e.getMessage(), e.getMessage(), e);
  }

  abstract Object run() throws Exception;
}
