package org.postilion.dkim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * The SHA-256 of a canonical body and its length in canonical bytes: the {@code bh=} and {@code l=}
 * tags of a signature.
 */
record BodyHash(byte[] sha256, long length) {

  /** Reads {@code body} to its end; a body of any size takes only a small buffer. */
  static BodyHash of(InputStream body, Canonicalization canonicalization) throws IOException {
    SHA256Digest digest = new SHA256Digest();
    OutputStream hashing =
        new OutputStream() {
          @Override
          public void write(int b) {
            digest.update((byte) b);
          }

          @Override
          public void write(byte[] bytes, int offset, int length) {
            digest.update(bytes, offset, length);
          }
        };
    BodyCanonicalizer canonical = new BodyCanonicalizer(canonicalization, hashing);
    body.transferTo(canonical);
    canonical.finish();
    byte[] hash = new byte[digest.getDigestSize()];
    digest.doFinal(hash, 0);
    return new BodyHash(hash, canonical.length());
  }

  /** The same for a body in memory: bytes {@code [start, message.length)}. */
  static BodyHash of(byte[] message, int start, Canonicalization canonicalization) {
    try {
      return of(
          new java.io.ByteArrayInputStream(message, start, message.length - start),
          canonicalization);
    } catch (IOException e) {
      throw new UncheckedIOException("reading from memory does not fail", e);
    }
  }
}
