package org.postilion.queue.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.postilion.api.egress.EgressSource;
import org.postilion.testkit.TypedConfig;

class EgressRegistryTest {

  private static EgressSourceDefinition source(String name, String address) {
    EgressSourceDefinition source = new EgressSourceDefinition();
    source.activate(
        TypedConfig.of(
            EgressSourceDefinition.Config.class,
            Map.of("source_address", address, "ehlo_domain", name + ".example.com")),
        Map.of(
            "felix.fileinstall.filename",
            "file:/etc/" + EgressSourceDefinition.PID + "-" + name + ".cfg"));
    return source;
  }

  private static EgressPoolDefinition pool(String name, String sources) {
    EgressPoolDefinition pool = new EgressPoolDefinition();
    pool.activate(
        TypedConfig.of(EgressPoolDefinition.Config.class, Map.of("sources", sources)),
        Map.of(
            "felix.fileinstall.filename",
            "file:/etc/" + EgressPoolDefinition.PID + "-" + name + ".cfg"));
    return pool;
  }

  @Test
  void choosesSourcesByWeightAndSkipsUnknownOnes() {
    EgressRegistry registry = new EgressRegistry();
    registry.addSource(source("ip1", "127.0.0.2"));
    registry.addSource(source("ip2", "127.0.0.3"));
    registry.addPool(pool("warm", "ip1:3, ip2:1, ghost:5"));
    SplittableRandom random = new SplittableRandom(1);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 4000; i++) {
      EgressSource chosen = registry.choose("warm", random).orElseThrow();
      counts.merge(chosen.name(), 1, Integer::sum);
    }
    assertEquals(2, counts.size(), counts.toString());
    int ip1 = counts.get("ip1");
    assertTrue(ip1 > 2800 && ip1 < 3200, "ip1 chosen " + ip1 + " times of 4000");
    EgressSource chosen = registry.choose("warm", random).orElseThrow();
    assertEquals(chosen.name() + ".example.com", chosen.ehloDomain());
  }

  @Test
  void noPoolMeansTheUnspecifiedSourceAndAnUnknownPoolNothing() {
    EgressRegistry registry = new EgressRegistry();
    SplittableRandom random = new SplittableRandom(1);
    assertEquals(EgressSource.UNSPECIFIED, registry.choose(null, random).orElseThrow());
    assertTrue(registry.choose("cold", random).isEmpty());
    registry.addPool(pool("cold", "nobody"));
    assertTrue(registry.hasPool("cold"));
    assertTrue(registry.choose("cold", random).isEmpty(), "a pool without known sources");
  }
}
