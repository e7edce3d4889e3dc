package org.postilion.bench;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.postilion.dkim.Canonicalization;
import org.postilion.dkim.DkimSignature;
import org.postilion.dkim.KeyGenerator;
import org.postilion.dkim.SignatureSpec;
import org.postilion.dkim.SigningAlgorithm;
import org.postilion.dkim.SigningKey;

/** Messages signed per second: one DKIM-Signature field for a 5 KB message, on one thread. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SignBenchmark {

  @Param({"rsa-sha256", "ed25519-sha256"})
  public String algorithm;

  @Param({"5120"})
  public int size;

  private byte[] message;
  private SigningKey key;
  private SignatureSpec spec;
  private final Instant now = Instant.parse("2026-11-23T10:00:00Z");

  @Setup
  public void setUp() {
    SigningAlgorithm chosen = SigningAlgorithm.parse(algorithm);
    key = KeyGenerator.generate(chosen, 2048);
    spec =
        new SignatureSpec(
            "example.com",
            "bench",
            chosen,
            Canonicalization.RELAXED,
            Canonicalization.RELAXED,
            SignatureSpec.RECOMMENDED_HEADERS,
            Set.of("from"),
            null,
            false);
    StringBuilder text =
        new StringBuilder(
            "From: News <news@example.com>\r\nTo: someone@example.org\r\n"
                + "Subject: the weekly letter\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                + "Message-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    while (text.length() < size) {
      text.append("Lorem ipsum dolor sit amet,  consectetur adipiscing elit, sed do eiusmod.\r\n");
    }
    message = text.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Benchmark
  public byte[] sign() {
    return DkimSignature.field(message, spec, key, now);
  }
}
