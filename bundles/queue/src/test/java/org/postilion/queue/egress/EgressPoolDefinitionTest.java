package org.postilion.queue.egress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EgressPoolDefinitionTest {

  @Test
  void readsWeightsDefaultingToOne() {
    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put("ip1", 3);
    expected.put("ip2", 1);
    assertEquals(expected, EgressPoolDefinition.parseWeights("ip1:3, ip2"));
  }

  @Test
  void refusesBadWeightsAndEmptyPools() {
    for (String bad : new String[] {"ip1:0", "ip1:-2", "ip1:x", " , "}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> EgressPoolDefinition.parseWeights(bad), bad);
      assertTrue(e.getMessage().startsWith("key sources: "), e.getMessage());
    }
  }
}
