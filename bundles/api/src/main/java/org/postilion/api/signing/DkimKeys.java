package org.postilion.api.signing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Makes DKIM signing keys, as {@code mta:dkim-keygen} offers: the private key goes into {@code
 * etc/dkim/<domain>/<selector>.key}, readable by its owner only, and the answer says what to
 * publish in DNS and how to sign with it. Offered by the DKIM bundle.
 */
public interface DkimKeys {

  /**
   * A key that was written.
   *
   * @param file where the private key is
   * @param relativePath the same, relative to the server's base folder (for {@code key.file})
   * @param algorithm {@code rsa-sha256} or {@code ed25519-sha256}
   * @param bits the RSA key size; 0 for Ed25519
   * @param domain the signing domain, in lower case
   * @param txtStrings the TXT record's value, cut into DNS character strings
   */
  record NewKey(
      Path file,
      String relativePath,
      String algorithm,
      int bits,
      String domain,
      String selector,
      List<String> txtStrings) {

    /** The name the TXT record is published under. */
    public String recordName() {
      return selector + "._domainkey." + domain + ".";
    }
  }

  /**
   * Makes and writes a key.
   *
   * @param replace whether an existing key file may be replaced
   * @throws IllegalArgumentException for a bad domain, selector, algorithm or size, or an existing
   *     file that may not be replaced
   * @throws IOException when the file cannot be written
   */
  NewKey create(String domain, String selector, String algorithm, int bits, boolean replace)
      throws IOException;
}
