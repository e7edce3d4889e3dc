package org.postilion.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Verifies DKIM signatures with an independent implementation: dkimpy (Debian's python3-dkim, run
 * by Debian's own /usr/bin/python3), answering key lookups from the given TXT records instead of
 * DNS.
 */
public final class DkimVerifier {
  private static final String PYTHON = "/usr/bin/python3";

  private static final String SCRIPT =
      """
      import sys, dkim
      message = open(sys.argv[1], 'rb').read()
      records = {}
      for pair in sys.argv[2:]:
          name, value = pair.split('=', 1)
          records[name.rstrip('.').lower()] = value.encode()
      def lookup(name, timeout=5):
          return records.get(name.decode().rstrip('.').lower())
      d = dkim.DKIM(message)
      count = sum(1 for line in message.split(b'\\r\\n\\r\\n')[0].split(b'\\r\\n')
                  if line.lower().startswith(b'dkim-signature:'))
      for i in range(count):
          try:
              ok = d.verify(idx=i, dnsfunc=lookup)
              print(i, 'pass' if ok else 'fail')
          except Exception as e:
              print(i, 'error', e)
      """;

  private DkimVerifier() {}

  /** Whether dkimpy is installed where the tests look for it. */
  public static boolean available() {
    try {
      Process process = new ProcessBuilder(PYTHON, "-c", "import dkim, nacl").start();
      return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * One line per DKIM-Signature field, top first: {@code "0 pass"}, {@code "1 fail"}, or {@code "0
   * error <reason>"}.
   *
   * @param records TXT record values by name ({@code selector._domainkey.domain})
   */
  public static List<String> verify(byte[] message, Map<String, String> records)
      throws IOException, InterruptedException {
    Path script = Files.createTempFile("dkim-verify", ".py");
    Path file = Files.createTempFile("dkim-message", ".eml");
    try {
      Files.writeString(script, SCRIPT, StandardCharsets.UTF_8);
      Files.write(file, message);
      List<String> command = new ArrayList<>(List.of(PYTHON, script.toString(), file.toString()));
      records.forEach((name, value) -> command.add(name + "=" + value));
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException("dkimpy failed: " + output);
      }
      return output.lines().toList();
    } finally {
      Files.deleteIfExists(script);
      Files.deleteIfExists(file);
    }
  }
}
