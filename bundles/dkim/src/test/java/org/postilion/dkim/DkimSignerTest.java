package org.postilion.dkim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.Submission;
import org.postilion.testkit.DkimVerifier;
import org.postilion.testkit.TypedConfig;

/** Signatures checked by dkimpy, an independent verifier. */
class DkimSignerTest {
  private static SigningKey rsa;
  private static SigningKey ed25519;

  @TempDir Path folder;

  @BeforeAll
  static void keys() {
    assertTrue(
        DkimVerifier.available(),
        "dkimpy is needed: apt-get install python3-dkim python3-nacl (scripts/test-deps does)");
    rsa = KeyGenerator.generate(SigningAlgorithm.RSA_SHA256, 2048);
    ed25519 = KeyGenerator.generate(SigningAlgorithm.ED25519_SHA256, 0);
  }

  /** Long folded fields, 8-bit text, white space runs and trailing blank lines. */
  static final String MESSAGE =
      "From: \"J\u00f6rg M\u00fcller\" <joerg@news.example.com>\r\n"
          + "To: a@x.org,\r\n"
          + "    b@x.org,\r\n"
          + "\tc@x.org\r\n"
          + "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a subject long enough that it was folded\r\n"
          + " \tonto a second line  \r\n"
          + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
          + "Message-ID: <1@news.example.com>\r\n"
          + "MIME-Version: 1.0\r\n"
          + "Content-Type: text/plain; charset=utf-8\r\n"
          + "Content-Transfer-Encoding: 8bit\r\n"
          + "\r\n"
          + "Gr\u00fc\u00dfe  aus   K\u00f6ln \t \r\n"
          + "\r\n"
          + "   indented line\r\n"
          + "\r\n"
          + "\r\n"
          + "\r\n";

  private Path keyFile(String name, SigningKey key) throws Exception {
    Path file = folder.resolve(name);
    Files.writeString(file, KeyFiles.toPem(key));
    return file;
  }

  private static DkimDefinition definition(
      String domain, String selector, Path key, String algorithm, String canonicalization) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("domain", domain);
    settings.put("selector", selector);
    settings.put("key.file", key.toString());
    settings.put("algorithm", algorithm);
    settings.put("canonicalization", canonicalization);
    DkimDefinition definition = new DkimDefinition();
    definition.configure(
        TypedConfig.of(DkimDefinition.Config.class, settings),
        Map.of("service.pid", "org.postilion.dkim~" + selector));
    return definition;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, String> records(Object... pairs) {
    Map<String, String> records = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      records.put((String) pairs[i], KeyGenerator.txtRecord((SigningKey) pairs[i + 1]));
    }
    return records;
  }

  @Test
  void everyCanonicalizationAndAlgorithmVerifiesWithDkimpy() throws Exception {
    Path rsaKey = keyFile("rsa.key", rsa);
    Path edKey = keyFile("ed.key", ed25519);
    for (String canonicalization :
        List.of("relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed")) {
      DkimSigner signer = new DkimSigner();
      signer.addDefinition(definition("example.com", "r", rsaKey, "rsa-sha256", canonicalization));
      signer.addDefinition(
          definition("example.com", "e", edKey, "ed25519-sha256", canonicalization));
      byte[] signed = signer.signMatching(bytes(MESSAGE));
      assertEquals(2, HeaderSection.parse(signed).named("DKIM-Signature").size(), canonicalization);
      assertEquals(
          List.of("0 pass", "1 pass"),
          DkimVerifier.verify(
              signed,
              records("r._domainkey.example.com", rsa, "e._domainkey.example.com", ed25519)),
          canonicalization);
    }
  }

  @Test
  void oversignedFromStopsAnAddedFrom() throws Exception {
    DkimSigner signer = new DkimSigner();
    signer.addDefinition(
        definition("example.com", "r", keyFile("rsa.key", rsa), "rsa-sha256", "relaxed/relaxed"));
    byte[] signed = signer.signMatching(bytes(MESSAGE));
    String text = new String(signed, StandardCharsets.UTF_8);
    assertTrue(text.contains("h=from:"), text);
    assertEquals(
        List.of("0 pass"), DkimVerifier.verify(signed, records("r._domainkey.example.com", rsa)));
    int headerEnd = HeaderSection.parse(signed).end();
    ByteArrayOutputStream tampered = new ByteArrayOutputStream();
    tampered.write(signed, 0, headerEnd);
    tampered.writeBytes(bytes("From: evil@attacker.test\r\n"));
    tampered.write(signed, headerEnd, signed.length - headerEnd);
    assertEquals(
        List.of("0 fail"),
        DkimVerifier.verify(tampered.toByteArray(), records("r._domainkey.example.com", rsa)));
  }

  @Test
  void onlyTheFromDomainAndItsSubdomainsAreSigned() throws Exception {
    DkimSigner signer = new DkimSigner();
    signer.addDefinition(
        definition("other.org", "r", keyFile("rsa.key", rsa), "rsa-sha256", "relaxed/relaxed"));
    byte[] message = bytes(MESSAGE);
    assertArrayEquals(message, signer.signMatching(message));
    assertEquals("news.example.com", DkimSigner.fromDomain(HeaderSection.parse(message)));
    assertEquals(
        "x.org",
        DkimSigner.fromDomain(HeaderSection.parse(bytes("From: a@x.org, b@y.org\r\n\r\n"))));
    assertNull(DkimSigner.fromDomain(HeaderSection.parse(bytes("Subject: none\r\n\r\n"))));
  }

  /** At reception only the header section is in memory; the body is hashed from its stream. */
  @Test
  void aLargeBodyIsSignedFromItsStreamAndVerifies() throws Exception {
    StringBuilder body = new StringBuilder();
    for (int i = 0; body.length() < 3_000_000; i++) {
      body.append("line ").append(i).append(" \t with  spaces   ").append("x".repeat(i % 997));
      body.append(i % 50 == 0 ? "\r\n\r\n" : "\r\n");
    }
    body.append("\r\n\r\n\r\n");
    String head = MESSAGE.substring(0, MESSAGE.indexOf("\r\n\r\n") + 4);
    Path edKey = keyFile("ed.key", ed25519);
    for (String canonicalization :
        List.of("relaxed/relaxed", "simple/simple", "relaxed/simple", "simple/relaxed")) {
      DkimSigner signer = new DkimSigner();
      signer.addDefinition(
          definition("example.com", "e", edKey, "ed25519-sha256", canonicalization));
      Submission submission =
          new Submission(
              "a@news.example.com", List.of("b@x.org"), new byte[0], "ESMTP", "::1", null);
      ReceivedMessage message =
          new ReceivedMessage(
              "id1",
              Instant.now(),
              submission,
              bytes(head),
              MessageContent.of(bytes(body.toString())));
      signer.filter(message);
      byte[] signed;
      try (InputStream in = message.open()) {
        signed = in.readAllBytes();
      }
      assertEquals(
          List.of("0 pass"),
          DkimVerifier.verify(signed, records("e._domainkey.example.com", ed25519)),
          canonicalization);
    }
  }

  @Test
  void aMissingKeySendsTheMessageUnsignedAndSaysSo() throws Exception {
    DkimSigner signer = new DkimSigner();
    signer.addDefinition(
        definition("example.com", "gone", folder.resolve("missing.key"), "rsa-sha256", "relaxed"));
    signer.addDefinition(
        definition("example.com", "e", keyFile("ed.key", ed25519), "ed25519-sha256", "relaxed"));
    Submission submission =
        new Submission("a@news.example.com", List.of("b@x.org"), new byte[0], "ESMTP", "::1", null);
    ReceivedMessage message = new ReceivedMessage("id1", Instant.now(), submission, bytes(MESSAGE));
    signer.filter(message);
    assertEquals(1, HeaderSection.parse(message.head()).named("DKIM-Signature").size());
    String problem = message.meta().get("dkim_error");
    assertTrue(
        problem.startsWith("gone._domainkey.example.com not signed: key file")
            && problem.contains("missing.key does not exist"),
        problem);
  }

  @Test
  void aReplacedKeyFileIsUsedForTheNextMessage() throws Exception {
    Path file = keyFile("rotating.key", ed25519);
    DkimSigner signer = new DkimSigner();
    signer.addDefinition(definition("example.com", "e", file, "ed25519-sha256", "relaxed"));
    signer.signMatching(bytes(MESSAGE));
    SigningKey next = KeyGenerator.generate(SigningAlgorithm.ED25519_SHA256, 0);
    Files.writeString(file, KeyFiles.toPem(next));
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    byte[] signed = signer.signMatching(bytes(MESSAGE));
    assertEquals(
        List.of("0 pass"), DkimVerifier.verify(signed, records("e._domainkey.example.com", next)));
  }

  @Test
  void policyRoutesSignWithAChosenDomainAndSelector() throws Exception {
    DkimSigner signer = new DkimSigner();
    signer.addDefinition(
        definition("esp.example", "s1", keyFile("rsa.key", rsa), "rsa-sha256", "relaxed/relaxed"));
    byte[] signed = signer.sign(bytes(MESSAGE), "esp.example", "s1");
    assertEquals(
        List.of("0 pass"), DkimVerifier.verify(signed, records("s1._domainkey.esp.example", rsa)));
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class, () -> signer.sign(bytes(MESSAGE), "esp.example", "s2"));
    assertTrue(unknown.getMessage().contains("selector s2"), unknown.getMessage());
  }

  @Test
  void bodyLengthAndExpirationTagsVerify() throws Exception {
    Map<String, Object> settings = new HashMap<>();
    settings.put("domain", "example.com");
    settings.put("selector", "e");
    settings.put("key.file", keyFile("ed.key", ed25519).toString());
    settings.put("algorithm", "ed25519-sha256");
    settings.put("expiration", "7d");
    settings.put("body_length", true);
    DkimDefinition definition = new DkimDefinition();
    definition.configure(
        TypedConfig.of(DkimDefinition.Config.class, settings), Map.of("service.pid", "x"));
    DkimSigner signer = new DkimSigner();
    signer.addDefinition(definition);
    byte[] signed = signer.signMatching(bytes(MESSAGE));
    String text = new String(signed, StandardCharsets.UTF_8);
    assertTrue(text.contains(" l=") && text.contains(" x="), text);
    assertEquals(
        List.of("0 pass"),
        DkimVerifier.verify(signed, records("e._domainkey.example.com", ed25519)));
  }

  @Test
  void badSettingsAreRefusedNamingTheKey() {
    Map<String, Object> settings = new HashMap<>();
    settings.put("domain", "example.com");
    settings.put("selector", "s");
    settings.put("algorithm", "rsa-sha1");
    settings.put("key.file", "k");
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> DkimDefinition.parse(TypedConfig.of(DkimDefinition.Config.class, settings)));
    assertTrue(bad.getMessage().startsWith("key algorithm:"), bad.getMessage());
    settings.put("algorithm", "rsa-sha256");
    settings.remove("key.file");
    bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> DkimDefinition.parse(TypedConfig.of(DkimDefinition.Config.class, settings)));
    assertEquals("key key.file is missing", bad.getMessage());
  }
}
