package org.postilion.support.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/** A certificate chain and its private key, read from PEM files, as a server TLS context. */
public record PemCredentials(List<X509Certificate> chain, PrivateKey key) {
  private static final char[] IN_MEMORY_PASSWORD = "postilion".toCharArray();

  public PemCredentials {
    chain = List.copyOf(chain);
  }

  /**
   * Reads a chain (leaf first) and an unencrypted key in PKCS#1, SEC1 or PKCS#8 form, and checks
   * that the key belongs to the leaf certificate.
   *
   * @throws IOException naming the file and what is wrong with it
   */
  public static PemCredentials read(Path certificateFile, Path keyFile) throws IOException {
    List<X509Certificate> chain = readChain(certificateFile);
    PrivateKey key = readKey(keyFile);
    if (!belongTogether(key, chain.get(0))) {
      throw new IOException(
          keyFile + " is not the private key of the certificate in " + certificateFile);
    }
    return new PemCredentials(chain, key);
  }

  private static List<X509Certificate> readChain(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> chain =
          CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
              .map(X509Certificate.class::cast)
              .toList();
      if (chain.isEmpty()) {
        throw new IOException(file + " holds no certificate");
      }
      return chain;
    } catch (GeneralSecurityException e) {
      throw new IOException(file + " is not a PEM certificate chain: " + e.getMessage(), e);
    }
  }

  private static PrivateKey readKey(Path file) throws IOException {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
        PEMParser pem = new PEMParser(reader)) {
      Object object;
      while ((object = pem.readObject()) != null) {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        if (object instanceof PEMKeyPair pair) {
          return jdkKey(converter.getPrivateKey(pair.getPrivateKeyInfo()));
        }
        if (object instanceof PrivateKeyInfo info) {
          return jdkKey(converter.getPrivateKey(info));
        }
        if (object instanceof PEMEncryptedKeyPair
            || object instanceof PKCS8EncryptedPrivateKeyInfo) {
          throw new IOException(file + " holds an encrypted key: store it without a passphrase");
        }
      }
      throw new IOException(file + " holds no PEM private key");
    }
  }

  /**
   * The same key from the JDK's own provider. Where Bouncy Castle is a registered provider (as in
   * Karaf) the converter hands out its keys, named "ECDSA" rather than "EC", which neither the
   * checks here nor every TLS stack expect.
   */
  private static PrivateKey jdkKey(PrivateKey key) throws IOException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC", "ECDSA" -> "EC";
          case "EdDSA" -> "Ed25519";
          default -> key.getAlgorithm();
        };
    try {
      return KeyFactory.getInstance(algorithm)
          .generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("unsupported key algorithm " + key.getAlgorithm(), e);
    }
  }

  /** Signs a few bytes with the key and verifies them with the certificate's public key. */
  private static boolean belongTogether(PrivateKey key, X509Certificate certificate)
      throws IOException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default -> throw new IOException("unsupported key algorithm " + key.getAlgorithm());
        };
    try {
      byte[] probe = "postilion".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * A PKCS#12 key store holding the key and chain under {@code alias}, for servers that want one.
   */
  public KeyStore keyStore(String alias, char[] password)
      throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry(alias, key, password, chain.toArray(new X509Certificate[0]));
    return store;
  }

  /** A server context with these credentials; protocols and ciphers are set per connection. */
  public SSLContext serverContext() throws GeneralSecurityException, IOException {
    KeyStore store = keyStore("server", IN_MEMORY_PASSWORD);
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, IN_MEMORY_PASSWORD);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  /**
   * Writes a new RSA 2048 key and a self-signed certificate for {@code hostName}, valid for {@code
   * validity}. The key file is readable by its owner only; both files appear whole or not at all.
   */
  public static void writeSelfSigned(
      Path certificateFile, Path keyFile, String hostName, Duration validity)
      throws IOException, GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048, new SecureRandom());
    KeyPair pair = generator.generateKeyPair();
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=" + hostName);
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            subject,
            new BigInteger(64, new SecureRandom()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(validity)),
            subject,
            pair.getPublic());
    builder.addExtension(
        Extension.subjectAlternativeName,
        false,
        new GeneralNames(new GeneralName(GeneralName.dNSName, hostName)));
    X509Certificate certificate;
    try {
      certificate =
          new JcaX509CertificateConverter()
              .getCertificate(
                  builder.build(
                      new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException("cannot sign the self-signed certificate", e);
    }
    Files.createDirectories(keyFile.toAbsolutePath().getParent());
    Files.createDirectories(certificateFile.toAbsolutePath().getParent());
    writePem(keyFile, pair.getPrivate(), true);
    writePem(certificateFile, certificate, false);
  }

  private static void writePem(Path file, Object object, boolean secret) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp);
    if (secret && tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    }
    try (JcaPEMWriter writer =
        new JcaPEMWriter(Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII))) {
      writer.writeObject(object);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
