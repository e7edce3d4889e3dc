package org.postilion.queue.providers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.api.metrics.ProviderTable;

class ProvidersComponentTest {

  @Test
  void theFrameworksOwnPropertiesNameNoProvider() {
    // What Config Admin, File Install and Declarative Services put next to the file's keys.
    ProviderTable table =
        ProvidersComponent.parse(
            Map.of(
                "service.pid", "org.postilion.queue.providers",
                "felix.fileinstall.filename", "file:/opt/postilion/etc/x.cfg",
                "component.name", "org.postilion.queue.providers.ProvidersComponent",
                "osgi.ds.satisfying.condition.target", "(osgi.condition.id=true)",
                "yahoo", ".yahoodns.net",
                "google", ".google.com"));
    assertEquals(List.of("google", "yahoo"), table.names(), "in name order");
    assertEquals("yahoo", table.provider("mta5.am0.yahoodns.net:25"));
  }

  @Test
  void aBadSuffixRefusesTheFile() {
    assertThrows(
        IllegalArgumentException.class, () -> ProvidersComponent.parse(Map.of("x", "not a host")));
  }

  @Test
  void theShippedFileParses() throws Exception {
    java.util.Properties shipped = new java.util.Properties();
    try (var in =
        java.nio.file.Files.newInputStream(
            java.nio.file.Path.of("src/main/cfg/org.postilion.queue.providers.cfg"))) {
      shipped.load(in);
    }
    Map<String, Object> properties = new java.util.HashMap<>();
    shipped.forEach((k, v) -> properties.put(k.toString(), v));
    ProviderTable table = ProvidersComponent.parse(properties);
    assertEquals("google", table.provider("alt1.aspmx.l.google.com:25,aspmx.l.google.com:25"));
    assertEquals("microsoft", table.provider("example-com.mail.protection.outlook.com:25"));
  }
}
