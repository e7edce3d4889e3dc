package org.postilion.bounce.classify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The rules files shipped in etc/bounce-classifier/, in force as the server loads them. */
public final class ShippedRules {
  private static RulesClassifier classifier;

  private ShippedRules() {}

  public static synchronized RulesClassifier classifier() {
    if (classifier == null) {
      List<RulesFile.Rule> rules = new ArrayList<>();
      for (String name : List.of("50-providers.toml", "90-iana.toml")) {
        Path file = Path.of("src/main/cfg", name);
        try {
          rules.addAll(RulesFile.parse(name, Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      classifier = new RulesClassifier(rules, 1024, 1024);
    }
    return classifier;
  }
}
