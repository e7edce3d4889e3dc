package org.postilion.shell;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.json.Json;

/**
 * KumoMTA's {@code kcli provider-summary}: traffic per mailbox provider (the providers of {@code
 * etc/org.postilion.queue.providers.cfg}, else the destination site), from the {@code
 * *_by_provider} metrics: delivered, transiently failed and failed since the start (or since the
 * provider's series were last pruned), connections open and messages in its ready queues now.
 * Ordered by volume, the sum of the four counts, as kcli orders it.
 */
@Service
@Command(
    scope = "mta",
    name = "provider-summary",
    description = "Delivered, failed, connections and queued messages per mailbox provider")
public class ProviderSummaryCommand extends AdminCommand {
  static final Set<String> METRICS =
      Set.of(
          "total_messages_delivered_by_provider",
          "total_messages_transfail_by_provider",
          "total_messages_fail_by_provider",
          "connection_count_by_provider",
          "queued_count_by_provider");

  @Option(name = "--limit", description = "Show at most this many providers (default: all)")
  int limit;

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  /** One row; the JSON field names are kcli's column meanings spelled out. */
  record ProviderRow(
      String provider, long delivered, long transfail, long failed, long connections, long queued) {
    long volume() {
      return delivered + transfail + failed + queued;
    }
  }

  @Override
  Object run() {
    if (limit < 0) {
      throw new IllegalArgumentException("--limit must be 0 (all) or more: " + limit);
    }
    List<ProviderRow> rows = rows(MetricsView.read(METRICS));
    if (limit > 0 && rows.size() > limit) {
      rows = rows.subList(0, limit);
    }
    if (json) {
      out().println(Json.write(rows));
      return null;
    }
    ShellTable table = new ShellTable().emptyTableText("no deliveries or queued mail yet");
    table.column("Provider");
    table.column("D").alignRight();
    table.column("T").alignRight();
    table.column("F").alignRight();
    table.column("C").alignRight();
    table.column("Q").alignRight();
    for (ProviderRow row : rows) {
      table
          .addRow()
          .addContent(
              row.provider(),
              row.delivered(),
              row.transfail(),
              row.failed(),
              row.connections(),
              row.queued());
    }
    table.print(out());
    return null;
  }

  static List<ProviderRow> rows(MetricsView view) {
    Map<String, long[]> byProvider = new LinkedHashMap<>();
    for (MetricsView.Sample sample : view.samples()) {
      int column =
          switch (sample.metric()) {
            case "total_messages_delivered_by_provider" -> 0;
            case "total_messages_transfail_by_provider" -> 1;
            case "total_messages_fail_by_provider" -> 2;
            case "connection_count_by_provider" -> 3;
            case "queued_count_by_provider" -> 4;
            default -> -1;
          };
      if (column >= 0) {
        byProvider.computeIfAbsent(sample.label("provider"), p -> new long[5])[column] +=
            (long) sample.value();
      }
    }
    List<ProviderRow> rows = new ArrayList<>();
    byProvider.forEach(
        (provider, c) -> rows.add(new ProviderRow(provider, c[0], c[1], c[2], c[3], c[4])));
    rows.sort(
        Comparator.comparingLong(ProviderRow::volume)
            .reversed()
            .thenComparing(ProviderRow::provider));
    return rows;
  }
}
