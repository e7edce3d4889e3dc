package org.postilion.dkim;

import java.io.IOException;
import java.util.Base64;
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.params.RSAPrivateCrtKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.RSADigestSigner;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/** A private key ready to sign, and what it signs with. Immutable and thread-safe. */
public final class SigningKey {
  private final SigningAlgorithm algorithm;
  private final AsymmetricKeyParameter privateKey;

  SigningKey(AsymmetricKeyParameter privateKey) {
    if (privateKey instanceof Ed25519PrivateKeyParameters) {
      this.algorithm = SigningAlgorithm.ED25519_SHA256;
    } else if (privateKey instanceof RSAPrivateCrtKeyParameters) {
      this.algorithm = SigningAlgorithm.RSA_SHA256;
    } else {
      throw new IllegalArgumentException(
          "not an RSA or Ed25519 private key: " + privateKey.getClass().getSimpleName());
    }
    this.privateKey = privateKey;
  }

  public SigningAlgorithm algorithm() {
    return algorithm;
  }

  /** RSA key size in bits, 256 for Ed25519. */
  public int bits() {
    return privateKey instanceof RSAKeyParameters rsa ? rsa.getModulus().bitLength() : 256;
  }

  /** Signs the canonical header data as the key's DKIM algorithm prescribes. */
  public byte[] sign(byte[] data) {
    if (algorithm == SigningAlgorithm.ED25519_SHA256) {
      // RFC 8463 section 3: PureEdDSA over the SHA-256 hash of the data, not over the data.
      SHA256Digest sha256 = new SHA256Digest();
      sha256.update(data, 0, data.length);
      byte[] hash = new byte[sha256.getDigestSize()];
      sha256.doFinal(hash, 0);
      Ed25519Signer signer = new Ed25519Signer();
      signer.init(true, privateKey);
      signer.update(hash, 0, hash.length);
      return signer.generateSignature();
    }
    RSADigestSigner signer = new RSADigestSigner(new SHA256Digest());
    signer.init(true, privateKey);
    signer.update(data, 0, data.length);
    try {
      return signer.generateSignature();
    } catch (CryptoException e) {
      throw new IllegalStateException("RSA signing failed", e);
    }
  }

  /**
   * The {@code p=} value of the DNS key record: the SubjectPublicKeyInfo for RSA, the raw 32-byte
   * public key for Ed25519 (RFC 8463 section 4).
   */
  public String publicKeyRecordValue() {
    if (privateKey instanceof Ed25519PrivateKeyParameters ed25519) {
      return Base64.getEncoder().encodeToString(ed25519.generatePublicKey().getEncoded());
    }
    RSAPrivateCrtKeyParameters rsa = (RSAPrivateCrtKeyParameters) privateKey;
    RSAKeyParameters publicKey =
        new RSAKeyParameters(false, rsa.getModulus(), rsa.getPublicExponent());
    try {
      return Base64.getEncoder()
          .encodeToString(
              SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(publicKey).getEncoded());
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode an RSA public key", e);
    }
  }

  /** The private key, for writing it to a file. */
  AsymmetricKeyParameter privateKey() {
    return privateKey;
  }
}
