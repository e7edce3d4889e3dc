package org.postilion.api.cluster;

import java.time.Instant;

/**
 * This node in its cluster, for {@code mta:cluster-status} and the admin API.
 *
 * @param nodeId the node's id, kept in its data folder (the records' {@code nodeid})
 * @param nodeName the node's name ({@code node.name} of {@code etc/org.postilion.cluster.cfg})
 * @param redis where the shared limits are kept, without credentials; null on a node of its own
 * @param mode {@code standalone}, {@code sentinel} or {@code cluster}; null on a node of its own
 * @param shared whether shared limits are in force now (false while Redis does not answer)
 * @param since when Redis last began or stopped answering
 * @param fallbackNodes the nodes a shared limit is divided among while Redis does not answer
 * @param leases shared connection leases this node holds now
 */
public record ClusterStatus(
    String nodeId,
    String nodeName,
    String redis,
    String mode,
    boolean shared,
    Instant since,
    int fallbackNodes,
    int leases) {}
