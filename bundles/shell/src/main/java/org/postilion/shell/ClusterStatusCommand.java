package org.postilion.shell;

import java.nio.file.Path;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.cluster.ClusterStatus;
import org.postilion.api.cluster.SharedLimits;
import org.postilion.api.config.LocalHost;
import org.postilion.api.config.NodeId;
import org.postilion.api.json.Json;

/**
 * This node's id and name, and whether the limits marked shared hold across the cluster now (Redis
 * answers), or each node keeps to its share, or the node is on its own.
 */
@Service
@Command(
    scope = "mta",
    name = "cluster-status",
    description = "This node's id and name, its Redis, and whether shared limits are in force")
public class ClusterStatusCommand extends AdminCommand {

  @Reference(optional = true)
  SharedLimits cluster;

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  @Override
  Object run() {
    ClusterStatus status =
        cluster != null
            ? cluster.status()
            : new ClusterStatus(
                NodeId.in(Path.of(System.getProperty("karaf.data", "data"))),
                LocalHost.name(),
                null,
                null,
                false,
                null,
                1,
                0);
    if (json) {
      out().println(Json.write(status));
      return null;
    }
    ShellTable table = new ShellTable();
    table.column("Node");
    table.column("Name");
    table.column("Redis");
    table.column("Limits");
    table.column("Since");
    table.column("Leases").alignRight();
    table
        .addRow()
        .addContent(
            status.nodeId(),
            status.nodeName(),
            status.redis() == null ? "-" : status.redis() + " (" + status.mode() + ")",
            limits(status),
            status.since() == null ? "-" : status.since().toString(),
            status.leases());
    table.print(out());
    return null;
  }

  private static String limits(ClusterStatus status) {
    if (status.redis() == null) {
      return "this node's own (no etc/org.postilion.cluster.cfg)";
    }
    return status.shared()
        ? "shared"
        : "fallback: 1/" + status.fallbackNodes() + " of each shared limit (Redis away)";
  }
}
