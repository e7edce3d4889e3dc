package org.postilion.bench;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.postilion.api.bounce.Report;
import org.postilion.api.delivery.Response;
import org.postilion.api.message.TraceHeader;
import org.postilion.bounce.classify.RulesClassifier;
import org.postilion.bounce.classify.RulesFile;
import org.postilion.bounce.report.ReportParser;

/**
 * Report reading and bounce classification with the shipped rules: reports read per second over
 * the unit tests' corpus (every format, ARF reports, auto-replies, bad input), and replies
 * classified per second when the cache misses (every reply unique, as Gmail's are) and when it
 * hits.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BounceBenchmark {
  private final List<byte[]> corpus = new ArrayList<>();
  private RulesClassifier classifier;
  private ReportParser parser;
  private int next;
  private long unique;

  @Setup
  public void setUp() throws IOException {
    Path root = Path.of(System.getProperty("postilion.root", "."));
    List<RulesFile.Rule> rules = new ArrayList<>();
    for (String name : List.of("50-providers.toml", "90-iana.toml")) {
      Path file = root.resolve("bundles/bounce/src/main/cfg").resolve(name);
      rules.addAll(RulesFile.parse(name, Files.readString(file, StandardCharsets.UTF_8)));
    }
    classifier = new RulesClassifier(rules, 1024, 1024);
    parser =
        new ReportParser(
            () -> classifier,
            new TraceHeader(new byte[32]),
            Clock.systemUTC(),
            "557f3ad4-2c8c-11ee-976e-782d7e12e173");
    try (Stream<Path> files = Files.list(root.resolve("bundles/bounce/src/test/resources/reports"))) {
      for (Path file : files.sorted().toList()) {
        corpus.add(Files.readAllBytes(file));
      }
    }
  }

  @Benchmark
  public Report readReport() throws IOException {
    byte[] message = corpus.get(next++ % corpus.size());
    return parser.read(new ByteArrayInputStream(message));
  }

  @Benchmark
  public String classifyUniqueReply() {
    return classifier.classify(
        Response.of(
            550,
            "5.1.1",
            "The email account that you tried to reach does not exist. a1si"
                + (unique++)
                + " - gsmtp"));
  }

  @Benchmark
  public String classifyRepeatedReply() {
    return classifier.classify(
        Response.of(421, "4.7.0", "[TSS04] Messages from 192.0.2.1 temporarily deferred"));
  }
}
