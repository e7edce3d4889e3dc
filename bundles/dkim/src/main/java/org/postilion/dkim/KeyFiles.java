package org.postilion.dkim;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Reads DKIM private keys in the forms signing tools write: PEM PKCS#1 ({@code BEGIN RSA PRIVATE
 * KEY}), PEM PKCS#8 ({@code BEGIN PRIVATE KEY}, RSA or Ed25519), and the bare base64 Ed25519 key
 * that dknewkey and similar DNS publishing tools write (the 32-byte seed, or seed and public key).
 */
public final class KeyFiles {
  private KeyFiles() {}

  /**
   * @throws IOException when the file cannot be read
   * @throws IllegalArgumentException when it holds no usable key; the message says why
   */
  public static SigningKey read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.US_ASCII));
  }

  static SigningKey parse(String text) throws IOException {
    if (text.contains("-----BEGIN")) {
      return parsePem(text);
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(text.replaceAll("\\s", ""));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("neither PEM nor base64", e);
    }
    if (raw.length == Ed25519PrivateKeyParameters.KEY_SIZE
        || raw.length == 2 * Ed25519PrivateKeyParameters.KEY_SIZE) {
      return new SigningKey(new Ed25519PrivateKeyParameters(raw, 0));
    }
    throw new IllegalArgumentException(
        "base64 of "
            + raw.length
            + " bytes: a bare key must be an Ed25519 key of 32 (or 64) bytes; put RSA keys in"
            + " PEM form");
  }

  private static SigningKey parsePem(String text) throws IOException {
    Object object;
    try (PEMParser parser = new PEMParser(new StringReader(text))) {
      object = parser.readObject();
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed PEM: " + e.getMessage(), e);
    }
    PrivateKeyInfo info;
    if (object instanceof PEMKeyPair pair) {
      info = pair.getPrivateKeyInfo();
    } else if (object instanceof PrivateKeyInfo pkcs8) {
      info = pkcs8;
    } else if (object instanceof PEMEncryptedKeyPair
        || object instanceof PKCS8EncryptedPrivateKeyInfo) {
      throw new IllegalArgumentException("the key is encrypted; store it without a passphrase");
    } else {
      throw new IllegalArgumentException(
          object == null
              ? "no PEM object in the file"
              : "a PEM " + object.getClass().getSimpleName() + ", not a private key");
    }
    return new SigningKey(PrivateKeyFactory.createKey(info));
  }

  /** The key as PEM PKCS#8, the form both OpenSSL and this class read. */
  public static String toPem(SigningKey key) throws IOException {
    byte[] der = PrivateKeyInfoFactory.createPrivateKeyInfo(key.privateKey()).getEncoded();
    StringWriter text = new StringWriter();
    try (PemWriter writer = new PemWriter(text)) {
      writer.writeObject(new PemObject("PRIVATE KEY", der));
    }
    return text.toString();
  }
}
