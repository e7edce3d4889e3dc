package org.postilion.bounce.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.Response;
import org.postilion.testkit.TypedConfig;

class ClassifierComponentTest {
  @TempDir Path folder;
  private ClassifierComponent classifier;

  @AfterEach
  void stop() {
    if (classifier != null) {
      classifier.deactivate();
    }
  }

  private static final Response REPLY = Response.of(550, "5.1.1", "gone fishing");

  @Test
  void rulesFilesAreFollowedAndABrokenOneLeavesTheRulesInForce() throws Exception {
    Files.writeString(folder.resolve("90-base.toml"), "[rules]\nInvalidRecipient = [\"^550 \"]\n");
    classifier = new ClassifierComponent();
    classifier.activate(
        TypedConfig.of(ClassifierComponent.Config.class, Map.of("rules_folder", folder.toString())),
        Map.of());
    assertEquals("InvalidRecipient", classifier.classify(REPLY));

    // A file that sorts first takes precedence once it is seen.
    Files.writeString(folder.resolve("10-local.toml"), "[rules]\nGoneFishing = [\"fishing\"]\n");
    await(() -> classifier.classify(REPLY), "GoneFishing");

    // A mistake: refused, and what was in force stays.
    Files.writeString(folder.resolve("10-local.toml"), "[rules]\nBroken = [\"(unclosed\"]\n");
    Files.writeString(folder.resolve("20-other.toml"), "[rules]\nOther = [\"gone\"]\n");
    await(() -> classifier.refusal() != null ? "refused" : "not yet", "refused");
    assertTrue(classifier.refusal().contains("10-local.toml"), classifier.refusal());
    assertEquals("GoneFishing", classifier.classify(REPLY), "the rules in force stay");

    // Fixed: in force again, and a removed file is gone from the rules.
    Files.delete(folder.resolve("10-local.toml"));
    await(() -> classifier.classify(REPLY), "Other");
    assertNull(classifier.refusal());
  }

  private static void await(Supplier<String> actual, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!expected.equals(actual.get())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("still " + actual.get() + ", not " + expected);
      }
      Thread.sleep(50);
    }
  }
}
