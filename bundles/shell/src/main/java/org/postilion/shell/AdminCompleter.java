package org.postilion.shell;

import java.util.Collection;
import java.util.List;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.postilion.api.admin.QueueAdmin;

/** Completes from values the queue admin service knows now; subclasses say which. */
abstract class AdminCompleter implements Completer {

  @Reference QueueAdmin admin;

  @Override
  public int complete(Session session, CommandLine commandLine, List<String> candidates) {
    return new StringsCompleter(values()).complete(session, commandLine, candidates);
  }

  abstract Collection<String> values();
}
