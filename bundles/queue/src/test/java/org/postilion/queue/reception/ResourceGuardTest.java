package org.postilion.queue.reception;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.reception.ReceptionException;
import org.postilion.testkit.TypedConfig;

class ResourceGuardTest {
  @TempDir Path folder;

  private final AtomicReference<Double> heap = new AtomicReference<>(0.2);

  private ResourceGuard guard(String minFreeSpace, int maxHeapUsed) {
    ResourceGuard guard = new ResourceGuard(heap::get);
    Map<String, Object> properties = new HashMap<>();
    properties.put("min_free_space", minFreeSpace);
    properties.put("max_heap_used", maxHeapUsed);
    properties.put("folders", folder.toString());
    properties.put("felix.fileinstall.filename", "file:/etc/org.postilion.queue.resources.cfg");
    guard.modified(TypedConfig.of(ResourceGuard.Config.class, properties), properties);
    return guard;
  }

  @Test
  void freeSpaceIsAPercentageOrASize() {
    assertEquals(new ResourceGuard.FreeSpace(0.1, 0), ResourceGuard.FreeSpace.parse("10%"));
    assertEquals(new ResourceGuard.FreeSpace(0, 500L << 20), ResourceGuard.FreeSpace.parse("500m"));
    assertEquals(new ResourceGuard.FreeSpace(0, 2L << 30), ResourceGuard.FreeSpace.parse("2G"));
    assertEquals(new ResourceGuard.FreeSpace(0, 4096), ResourceGuard.FreeSpace.parse("4096"));
    assertEquals(ResourceGuard.FreeSpace.NONE, ResourceGuard.FreeSpace.parse("0"));
    assertEquals(1000, new ResourceGuard.FreeSpace(0.1, 0).of(10_000));
    assertEquals(5000, new ResourceGuard.FreeSpace(0, 5000).of(10_000));
    for (String bad : new String[] {"ten", "100%", "-5%", "5x", "-1", "99999999999t"}) {
      assertThrows(IllegalArgumentException.class, () -> ResourceGuard.FreeSpace.parse(bad), bad);
    }
  }

  @Test
  void aBadValueIsRefusedNamingTheKeyAndThePreviousSettingsStay() {
    ResourceGuard guard = guard("1k", 90);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> guard("lots", 90));
    assertTrue(e.getMessage().contains("min_free_space"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> guard("10%", 150));
    assertTrue(e.getMessage().contains("max_heap_used"), e.getMessage());
    assertFalse(guard.inspect().refuses());
  }

  @Test
  void tooLittleFreeSpaceRefusesReceptionWith452UntilItReturns() throws Exception {
    ResourceGuard guard = guard("1000000t", 0);
    ResourceGuard.Verdict low = guard.inspect();
    assertTrue(low.refuses());
    assertEquals("min_free_space", low.reason());
    assertTrue(low.detail().contains("min_free_space"), low.detail());
    guard.update(low);
    ReceptionException refused = assertThrows(ReceptionException.class, guard::check);
    assertEquals(452, refused.response().code());
    assertEquals("4.3.1", refused.response().enhancedCode());
    assertEquals("min_free_space", refused.reason());

    // The operator frees space (here: asks for less); the next check lets mail in again.
    ResourceGuard relaxed = guard("1k", 0);
    relaxed.update(low);
    relaxed.update(relaxed.inspect());
    assertDoesNotThrow(relaxed::check);
  }

  @Test
  void aHeapFullAfterCollectionShedsLoadWith451() throws Exception {
    ResourceGuard guard = guard("0", 90);
    assertFalse(guard.inspect().refuses());
    heap.set(0.95);
    guard.update(guard.inspect());
    ReceptionException refused = assertThrows(ReceptionException.class, guard::check);
    assertEquals(451, refused.response().code());
    assertEquals("max_heap_used", refused.reason());
    heap.set(0.5);
    guard.update(guard.inspect());
    assertDoesNotThrow(guard::check);
  }
}
