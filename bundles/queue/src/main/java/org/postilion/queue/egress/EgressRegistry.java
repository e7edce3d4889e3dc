package org.postilion.queue.egress;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.postilion.api.egress.EgressSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The egress sources and pools in force, and the weighted choice of a source from a pool. */
@Component(service = EgressRegistry.class, immediate = true)
public class EgressRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(EgressRegistry.class);

  private final List<EgressSourceDefinition> sources = new CopyOnWriteArrayList<>();
  private final List<EgressPoolDefinition> pools = new CopyOnWriteArrayList<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY,
      updated = "changed")
  void addSource(EgressSourceDefinition source) {
    sources.add(source);
    changed(source);
  }

  void removeSource(EgressSourceDefinition source) {
    sources.remove(source);
  }

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY,
      updated = "changed")
  void addPool(EgressPoolDefinition pool) {
    pools.add(pool);
    changed(pool);
  }

  void removePool(EgressPoolDefinition pool) {
    pools.remove(pool);
  }

  void changed(Object definition) {
    changeListeners.forEach(Runnable::run);
  }

  /** Called after sources or pools were added or changed: mail waiting for them may go. */
  public void onChange(Runnable listener) {
    changeListeners.add(listener);
  }

  public void removeChangeListener(Runnable listener) {
    changeListeners.remove(listener);
  }

  public boolean hasPool(String name) {
    return pool(name).isPresent();
  }

  /**
   * A source from the pool, chosen at random by weight; the unspecified source for no pool; empty
   * when the pool is unknown or names no known source.
   */
  public Optional<EgressSource> choose(String poolName, RandomGenerator random) {
    if (poolName == null) {
      return Optional.of(EgressSource.UNSPECIFIED);
    }
    Optional<EgressPoolDefinition.Pool> pool = pool(poolName);
    if (pool.isEmpty()) {
      return Optional.empty();
    }
    List<EgressSource> candidates = new ArrayList<>();
    List<Integer> weights = new ArrayList<>();
    int total = 0;
    for (Map.Entry<String, Integer> entry : pool.get().weights().entrySet()) {
      Optional<EgressSource> source = source(entry.getKey());
      if (source.isEmpty()) {
        LOG.debug("Egress pool {} names unknown source {}", poolName, entry.getKey());
        continue;
      }
      candidates.add(source.get());
      weights.add(entry.getValue());
      total += entry.getValue();
    }
    if (candidates.isEmpty()) {
      return Optional.empty();
    }
    int pick = random.nextInt(total);
    for (int i = 0; i < candidates.size(); i++) {
      pick -= weights.get(i);
      if (pick < 0) {
        return Optional.of(candidates.get(i));
      }
    }
    return Optional.of(candidates.get(candidates.size() - 1));
  }

  private Optional<EgressPoolDefinition.Pool> pool(String name) {
    return pools.stream()
        .map(EgressPoolDefinition::pool)
        .filter(p -> p != null && p.name().equals(name))
        .findFirst();
  }

  private Optional<EgressSource> source(String name) {
    return sources.stream()
        .map(EgressSourceDefinition::source)
        .filter(s -> s != null && s.name().equals(name))
        .findFirst();
  }
}
