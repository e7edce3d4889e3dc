package org.postilion.http.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {
  @TempDir Path folder;

  @Test
  void findsKeysByTheirHashAndFollowsTheFile() throws Exception {
    Path file = folder.resolve("keys.properties");
    Files.writeString(
        file, "# comment\nacme = " + ApiKeys.sha256("secret-1") + ", acme\nbad = not-a-hash, x\n");
    ApiKeys keys = new ApiKeys(file);
    assertEquals(new ApiKeys.Key("acme", "acme"), keys.find("secret-1").orElseThrow());
    assertTrue(keys.find("secret-2").isEmpty());
    assertTrue(keys.find("not-a-hash").isEmpty());

    Files.writeString(file, "other = " + ApiKeys.sha256("secret-2") + "\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(10)));
    Thread.sleep(1100);
    assertTrue(keys.find("secret-1").isEmpty());
    assertEquals(new ApiKeys.Key("other", null), keys.find("secret-2").orElseThrow());
  }

  @Test
  void noFileMeansNoKeys() {
    assertTrue(new ApiKeys(folder.resolve("absent")).find("anything").isEmpty());
  }
}
