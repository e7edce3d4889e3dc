package org.postilion.queue.manager;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.postilion.api.reception.ReceptionFilter;

/**
 * The reception filters in force, in the order of their {@value ReceptionFilter#ORDER} property.
 * The list is replaced whole, never edited in place, so a message never sees a half-updated chain.
 */
final class ReceptionFilters {

  /** A filter and where it runs. */
  record Ranked(int order, long serviceId, ReceptionFilter filter) {
    static final Comparator<Ranked> ORDER =
        Comparator.comparingInt(Ranked::order).thenComparingLong(Ranked::serviceId);
  }

  private volatile List<Ranked> filters = List.of();

  List<Ranked> inOrder() {
    return filters;
  }

  synchronized void add(ReceptionFilter filter, Map<String, Object> properties) {
    Object order = properties.get(ReceptionFilter.ORDER);
    int rank = order instanceof Number n ? n.intValue() : ReceptionFilter.POLICY;
    Object id = properties.get("service.id");
    long serviceId = id instanceof Number n ? n.longValue() : 0;
    List<Ranked> updated = new ArrayList<>(filters);
    updated.add(new Ranked(rank, serviceId, filter));
    updated.sort(Ranked.ORDER);
    filters = List.copyOf(updated);
  }

  synchronized void remove(ReceptionFilter filter) {
    filters = filters.stream().filter(ranked -> ranked.filter() != filter).toList();
  }
}
