package org.postilion.dkim.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.postilion.dkim.KeyFiles;
import org.postilion.dkim.KeyGenerator;
import org.postilion.dkim.SigningAlgorithm;
import org.postilion.dkim.SigningKey;

@Service
@Command(
    scope = "mta",
    name = "dkim-keygen",
    description =
        "Creates a DKIM private key under etc/dkim/<domain>/<selector>.key and prints the DNS TXT"
            + " record to publish and the cfg that signs with it")
public class DkimKeygenCommand implements Action {

  @Option(name = "--domain", required = true, description = "The signing domain, d=")
  String domain;

  @Option(name = "--selector", required = true, description = "The selector, s=")
  String selector;

  @Option(name = "--algorithm", description = "rsa-sha256 (default) or ed25519-sha256")
  @Completion(
      values = {"rsa-sha256", "ed25519-sha256"},
      value = StringsCompleter.class)
  String algorithm = "rsa-sha256";

  @Option(name = "--bits", description = "RSA key size, default 2048")
  int bits = 2048;

  @Option(name = "--force", description = "Replace an existing key file")
  boolean force;

  @Reference Session session;

  @Override
  public Object execute() throws Exception {
    PrintStream out = session.getConsole();
    SigningAlgorithm chosen;
    try {
      KeyGenerator.checkName("--domain", domain);
      KeyGenerator.checkName("--selector", selector);
      chosen = SigningAlgorithm.parse(algorithm);
    } catch (IllegalArgumentException e) {
      return "Error: " + e.getMessage();
    }
    String lowerDomain = domain.toLowerCase(Locale.ROOT);
    Path relative = Path.of("etc", "dkim", lowerDomain, selector + ".key");
    Path file = Path.of(System.getProperty("karaf.base", ".")).resolve(relative);
    if (Files.exists(file) && !force) {
      return "Error: " + file + " exists; give --force to replace it";
    }
    SigningKey key;
    try {
      key = KeyGenerator.generate(chosen, bits);
    } catch (IllegalArgumentException e) {
      return "Error: " + e.getMessage();
    }
    try {
      write(file, KeyFiles.toPem(key));
    } catch (IOException e) {
      return "Error: cannot write " + file + ": " + e.getMessage();
    }
    out.println(
        "Private key ("
            + key.algorithm()
            + (chosen == SigningAlgorithm.RSA_SHA256 ? ", " + key.bits() + " bits" : "")
            + ") written to "
            + file);
    out.println();
    out.println("Publish this DNS TXT record:");
    List<String> strings = KeyGenerator.txtStrings(KeyGenerator.txtRecord(key));
    out.print(selector + "._domainkey." + lowerDomain + ". IN TXT (");
    for (String string : strings) {
      out.print(" \"" + string + "\"");
    }
    out.println(" )");
    out.println();
    out.println(
        "Then sign with it: create etc/org.postilion.dkim-"
            + lowerDomain
            + "-"
            + selector
            + ".cfg with");
    out.println("  domain = " + lowerDomain);
    out.println("  selector = " + selector);
    out.println("  key.file = " + relative.toString().replace('\\', '/'));
    out.println("  algorithm = " + key.algorithm());
    return null;
  }

  /** Writes the key readable by its owner only, never leaving a half-written file behind. */
  private static void write(Path file, String pem) throws IOException {
    Files.createDirectories(file.getParent());
    Path temporary = Files.createTempFile(file.getParent(), ".keygen", ".tmp");
    try {
      try {
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system (Windows): the folder's permissions apply.
      }
      Files.writeString(temporary, pem, StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
      Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
