package org.postilion.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;

class KeyFilesTest {

  private static String pem(String type, byte[] der) throws Exception {
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject(type, der));
    }
    return text.toString();
  }

  @Test
  void readsPkcs1AndPkcs8Rsa() throws Exception {
    SigningKey key = KeyGenerator.generate(SigningAlgorithm.RSA_SHA256, 1024);
    PrivateKeyInfo info = PrivateKeyInfoFactory.createPrivateKeyInfo(key.privateKey());
    SigningKey pkcs1 =
        KeyFiles.parse(
            pem("RSA PRIVATE KEY", info.parsePrivateKey().toASN1Primitive().getEncoded()));
    SigningKey pkcs8 = KeyFiles.parse(KeyFiles.toPem(key));
    assertEquals(key.publicKeyRecordValue(), pkcs1.publicKeyRecordValue());
    assertEquals(key.publicKeyRecordValue(), pkcs8.publicKeyRecordValue());
    assertEquals(1024, pkcs1.bits());
  }

  @Test
  void readsEd25519InPkcs8AndBareForms() throws Exception {
    SigningKey key = KeyGenerator.generate(SigningAlgorithm.ED25519_SHA256, 0);
    assertEquals(
        key.publicKeyRecordValue(), KeyFiles.parse(KeyFiles.toPem(key)).publicKeyRecordValue());
    SigningKey bare = KeyFiles.parse(Rfc8463Test.ED25519_KEY + "\n");
    assertEquals(Rfc8463Test.ED25519_PUBLIC, bare.publicKeyRecordValue());
  }

  @Test
  void unusableFilesSayWhy() {
    IllegalArgumentException garbage =
        assertThrows(IllegalArgumentException.class, () -> KeyFiles.parse("not a key!"));
    assertEquals("neither PEM nor base64", garbage.getMessage());
    IllegalArgumentException shortKey =
        assertThrows(
            IllegalArgumentException.class,
            () -> KeyFiles.parse(Base64.getEncoder().encodeToString(new byte[16])));
    assertTrue(shortKey.getMessage().contains("16 bytes"), shortKey.getMessage());
    IllegalArgumentException broken =
        assertThrows(
            IllegalArgumentException.class,
            () -> KeyFiles.parse(pem("ENCRYPTED PRIVATE KEY", new byte[] {0x30, 0x00})));
    assertTrue(broken.getMessage().startsWith("malformed PEM"), broken.getMessage());
  }

  @Test
  void txtRecordsSplitIntoDnsStrings() {
    SigningKey key = KeyGenerator.generate(SigningAlgorithm.RSA_SHA256, 4096);
    String record = KeyGenerator.txtRecord(key);
    assertTrue(record.startsWith("v=DKIM1; k=rsa; p=MII"), record);
    List<String> strings = KeyGenerator.txtStrings(record);
    assertTrue(strings.size() > 2 && strings.stream().allMatch(s -> s.length() <= 255));
    assertEquals(record, String.join("", strings));
    assertThrows(
        IllegalArgumentException.class,
        () -> KeyGenerator.generate(SigningAlgorithm.RSA_SHA256, 512));
    assertThrows(
        IllegalArgumentException.class, () -> KeyGenerator.checkName("--selector", "../etc"));
  }
}
