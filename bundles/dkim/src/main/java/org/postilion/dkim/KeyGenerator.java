package org.postilion.dkim;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;

/** New DKIM keys and the DNS records that publish them. */
public final class KeyGenerator {
  /** RFC 8301: verifiers must refuse RSA keys under 1024 bits. */
  public static final int MIN_RSA_BITS = 1024;

  public static final int MAX_RSA_BITS = 8192;

  /** Letters, digits, hyphens and dots: safe as a DNS label and as a file name. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?");

  /** Characters in one string of a TXT record (RFC 1035 3.3.14). */
  private static final int TXT_STRING = 255;

  private KeyGenerator() {}

  public static SigningKey generate(SigningAlgorithm algorithm, int bits) {
    SecureRandom random = new SecureRandom();
    if (algorithm == SigningAlgorithm.ED25519_SHA256) {
      return new SigningKey(new Ed25519PrivateKeyParameters(random));
    }
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new IllegalArgumentException(
          "--bits must be between " + MIN_RSA_BITS + " and " + MAX_RSA_BITS + ", not " + bits);
    }
    RSAKeyPairGenerator generator = new RSAKeyPairGenerator();
    generator.init(new RSAKeyGenerationParameters(BigInteger.valueOf(65537), random, bits, 112));
    AsymmetricCipherKeyPair pair = generator.generateKeyPair();
    return new SigningKey(pair.getPrivate());
  }

  /** The TXT record value that publishes the key's public half. */
  public static String txtRecord(SigningKey key) {
    return "v=DKIM1; k=" + key.algorithm().keyType() + "; p=" + key.publicKeyRecordValue();
  }

  /** The record value as zone file strings of at most 255 characters each. */
  public static List<String> txtStrings(String record) {
    List<String> strings = new ArrayList<>();
    for (int pos = 0; pos < record.length(); pos += TXT_STRING) {
      strings.add(record.substring(pos, Math.min(record.length(), pos + TXT_STRING)));
    }
    return strings;
  }

  /**
   * @throws IllegalArgumentException unless {@code value} is a domain or selector name
   */
  public static String checkName(String option, String value) {
    if (value == null || !NAME.matcher(value).matches() || value.contains("..")) {
      throw new IllegalArgumentException(
          option + " must be a DNS name (letters, digits, hyphens, dots), not '" + value + "'");
    }
    return value;
  }
}
