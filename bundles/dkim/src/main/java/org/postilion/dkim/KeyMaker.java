package org.postilion.dkim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import org.osgi.service.component.annotations.Component;
import org.postilion.api.signing.DkimKeys;

/** Makes DKIM keys under {@code etc/dkim/<domain>/<selector>.key} for mta:dkim-keygen. */
@Component(service = DkimKeys.class)
public class KeyMaker implements DkimKeys {

  @Override
  public NewKey create(String domain, String selector, String algorithm, int bits, boolean replace)
      throws IOException {
    KeyGenerator.checkName("--domain", domain);
    KeyGenerator.checkName("--selector", selector);
    SigningAlgorithm chosen = SigningAlgorithm.parse(algorithm);
    String lowerDomain = domain.toLowerCase(Locale.ROOT);
    Path relative = Path.of("etc", "dkim", lowerDomain, selector + ".key");
    Path file = Path.of(System.getProperty("karaf.base", ".")).resolve(relative);
    if (Files.exists(file) && !replace) {
      throw new IllegalArgumentException(file + " exists; give --force to replace it");
    }
    SigningKey key = KeyGenerator.generate(chosen, bits);
    try {
      write(file, KeyFiles.toPem(key));
    } catch (IOException e) {
      throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
    }
    return new NewKey(
        file,
        relative.toString().replace('\\', '/'),
        key.algorithm().toString(),
        chosen == SigningAlgorithm.RSA_SHA256 ? key.bits() : 0,
        lowerDomain,
        selector,
        KeyGenerator.txtStrings(KeyGenerator.txtRecord(key)));
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
