package org.postilion.support.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Security;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM pairs as openssl writes them, read with Bouncy Castle registered, as it is in Karaf. */
class PemCredentialsTest {
  @TempDir Path folder;

  @BeforeAll
  static void registerBouncyCastle() {
    Security.addProvider(new BouncyCastleProvider());
  }

  @AfterAll
  static void unregisterBouncyCastle() {
    Security.removeProvider(BouncyCastleProvider.PROVIDER_NAME);
  }

  private Path openssl(String name, String... keyArguments) throws Exception {
    Path prefix = folder.resolve(name);
    String[] command = {
      "openssl",
      "req",
      "-x509",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=" + name,
      "-keyout",
      prefix + ".key",
      "-out",
      prefix + ".crt"
    };
    String[] all = new String[command.length + keyArguments.length];
    System.arraycopy(command, 0, all, 0, command.length);
    System.arraycopy(keyArguments, 0, all, command.length, keyArguments.length);
    Process process = new ProcessBuilder(all).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, process.waitFor(), output);
    return prefix;
  }

  private static PemCredentials read(Path certificate, Path key) throws IOException {
    return PemCredentials.read(Path.of(certificate + ".crt"), Path.of(key + ".key"));
  }

  @Test
  void ecKeyIsReadAsTheJdksEcKeyAndMakesAKeyStoreAndAContext() throws Exception {
    Path ec = openssl("ec", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1");
    PemCredentials credentials = read(ec, ec);
    assertEquals("EC", credentials.key().getAlgorithm());
    assertTrue(credentials.keyStore("server", "pw".toCharArray()).isKeyEntry("server"));
    assertEquals("TLS", credentials.serverContext().getProtocol());
  }

  @Test
  void rsaKeyIsRead() throws Exception {
    Path rsa = openssl("rsa", "-newkey", "rsa:2048");
    assertEquals("RSA", read(rsa, rsa).key().getAlgorithm());
  }

  @Test
  void keyOfAnotherCertificateIsRefused() throws Exception {
    Path one = openssl("one", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1");
    Path two = openssl("two", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1");
    IOException e = assertThrows(IOException.class, () -> read(one, two));
    assertTrue(
        e.getMessage().contains("is not the private key of the certificate"), e.getMessage());
  }
}
