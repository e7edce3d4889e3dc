package org.postilion.shell;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.json.Json;
import org.postilion.api.reception.LocalListener;

@Service
@Command(
    scope = "mta",
    name = "listeners",
    description = "The server's listeners, where they listen, and how often each limit refused")
public class ListenersCommand extends AdminCommand {

  @Reference(optional = true)
  List<LocalListener> listeners;

  @Option(name = "--json", description = "Print JSON instead of a table")
  boolean json;

  @Override
  Object run() {
    List<LocalListener> sorted =
        new ArrayList<>(listeners == null ? List.<LocalListener>of() : listeners);
    sorted.sort(Comparator.comparing(LocalListener::name));
    if (json) {
      out()
          .println(
              Json.write(
                  sorted.stream()
                      .map(
                          l -> {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("name", l.name());
                            m.put("address", String.valueOf(l.boundAddress()));
                            m.put("tls", l.tls());
                            m.put("refusals", l.refusalCounts());
                            return m;
                          })
                      .toList()));
      return null;
    }
    ShellTable table = new ShellTable().emptyTableText("no listeners");
    table.column("Listener");
    table.column("Address");
    table.column("TLS").maxSize(90).wrap();
    table.column("Refusals");
    for (LocalListener listener : sorted) {
      String refusals =
          listener.refusalCounts().entrySet().stream()
              .map(e -> e.getKey() + "=" + e.getValue())
              .collect(Collectors.joining(", "));
      table
          .addRow()
          .addContent(
              listener.name(),
              listener.boundAddress().getAddress().getHostAddress()
                  + ":"
                  + listener.boundAddress().getPort(),
              listener.tls(),
              refusals);
    }
    table.print(out());
    return null;
  }
}
