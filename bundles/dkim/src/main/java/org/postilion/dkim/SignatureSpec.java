package org.postilion.dkim;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What one DKIM signature covers and how it is made.
 *
 * @param domain the {@code d=} domain, lower-case
 * @param headers names of the fields to sign when present, lower-case, in {@code h=} order
 * @param oversigned names listed once more than they occur, so that no field of that name can be
 *     added after signing without breaking the signature
 * @param expiration how long the signature is valid ({@code x=}), or {@code null} for no limit
 * @param bodyLength whether to state the signed body length ({@code l=})
 */
public record SignatureSpec(
    String domain,
    String selector,
    SigningAlgorithm algorithm,
    Canonicalization headerCanonicalization,
    Canonicalization bodyCanonicalization,
    List<String> headers,
    Set<String> oversigned,
    Duration expiration,
    boolean bodyLength) {

  /**
   * The fields RFC 6376 section 5.4.1 recommends signing, with the MIME fields that decide how the
   * body is read and RFC 8058's List-Unsubscribe-Post.
   */
  public static final List<String> RECOMMENDED_HEADERS =
      List.of(
          "from",
          "reply-to",
          "subject",
          "date",
          "to",
          "cc",
          "message-id",
          "mime-version",
          "content-type",
          "content-transfer-encoding",
          "resent-date",
          "resent-from",
          "resent-to",
          "resent-cc",
          "in-reply-to",
          "references",
          "list-id",
          "list-help",
          "list-unsubscribe",
          "list-unsubscribe-post",
          "list-subscribe",
          "list-post",
          "list-owner",
          "list-archive");

  public SignatureSpec {
    domain = domain.trim().toLowerCase(Locale.ROOT);
    if (domain.isEmpty()) {
      throw new IllegalArgumentException("key domain: the d= domain is required");
    }
    if (selector.isBlank()) {
      throw new IllegalArgumentException("key selector: a selector is required");
    }
    selector = selector.trim();
    headers = headers.stream().map(h -> h.trim().toLowerCase(Locale.ROOT)).distinct().toList();
    if (!headers.contains("from")) {
      throw new IllegalArgumentException("key headers: RFC 6376 requires From to be signed");
    }
    oversigned = Set.copyOf(oversigned.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
  }

  /** The {@code selector._domainkey.domain} name where the public key is published. */
  public String keyRecordName() {
    return selector + "._domainkey." + domain;
  }
}
