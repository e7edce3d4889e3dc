package org.postilion.shell;

import java.util.List;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.admin.ProtocolStatus;
import org.postilion.api.json.Json;

@Service
@Command(
    scope = "mta",
    name = "protocols",
    description =
        "Installed delivery protocols, missing ones that queues need, their queues and the"
            + " per-queue keys each one reads")
public class ProtocolsCommand extends AdminCommand {

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  @Override
  Object run() {
    List<ProtocolStatus> protocols = admin.protocols();
    if (json) {
      // The admin API's protocols, field for field.
      out().println(Json.write(protocols));
      return null;
    }
    ShellTable table = new ShellTable().emptyTableText("no delivery protocols");
    table.column("Protocol");
    table.column("Installed");
    table.column("Provider");
    table.column("Queues");
    for (ProtocolStatus p : protocols) {
      table
          .addRow()
          .addContent(
              p.name(),
              p.installed() ? "yes" : "MISSING",
              p.provider() == null ? "" : p.provider(),
              String.join(", ", p.queues()));
    }
    table.print(out());
    ShellTable keys = new ShellTable().emptyTableText("");
    keys.column("Key");
    keys.column("Type");
    keys.column("Default");
    keys.column("Description").maxSize(60).wrap();
    for (ProtocolStatus p : protocols) {
      p.keys()
          .forEach(
              k -> keys.addRow().addContent(k.name(), k.type(), k.defaultValue(), k.description()));
    }
    if (protocols.stream().anyMatch(p -> !p.keys().isEmpty())) {
      out().println();
      out().println("Per-queue keys (etc/org.postilion.queue-*.cfg):");
      keys.print(out());
    }
    return null;
  }
}
