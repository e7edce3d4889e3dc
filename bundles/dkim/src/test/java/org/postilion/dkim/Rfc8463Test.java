package org.postilion.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.signers.RSADigestSigner;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.junit.jupiter.api.Test;
import org.postilion.api.message.HeaderSection;

/** Known answers: the signed example message of RFC 8463 Appendix A. */
class Rfc8463Test {

  static final String MESSAGE =
      String.join(
          "\r\n",
          "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;",
          " d=football.example.com; i=@football.example.com;",
          " q=dns/txt; s=brisbane; t=1528637909; h=from : to :",
          " subject : date : message-id : from : subject : date;",
          " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
          " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus",
          " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==",
          "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;",
          " d=football.example.com; i=@football.example.com;",
          " q=dns/txt; s=test; t=1528637909; h=from : to : subject :",
          " date : message-id : from : subject : date;",
          " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;",
          " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3",
          " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz",
          " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=",
          "From: Joe SixPack <joe@football.example.com>",
          "To: Suzie Q <suzie@shopping.example.net>",
          "Subject: Is dinner ready?",
          "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
          "Message-ID: <20030712040037.46341.5F8J@football.example.com>",
          "",
          "Hi.",
          "",
          "We lost the game.  Are you hungry yet?",
          "",
          "Joe.",
          "");

  /** RFC 8463 A.2: the Ed25519 private key (the seed of RFC 8032 7.1 test 1). */
  static final String ED25519_KEY = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

  static final String ED25519_PUBLIC = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

  static final String RSA_PUBLIC =
      "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

  private static final Pattern B_VALUE = Pattern.compile("([;\\s]b=)([^;]*)$");
  private static final Pattern H_VALUE = Pattern.compile("[;\\s]h=([^;]*);");

  private final byte[] message = MESSAGE.getBytes(StandardCharsets.US_ASCII);
  private final HeaderSection header = HeaderSection.parse(message);

  /** The signature field without its CRLF and with an empty b= value, and its b= value. */
  private record Parts(String unsigned, byte[] signature, List<String> signedNames) {}

  private Parts parts(int index) {
    HeaderSection.Field field = header.named("DKIM-Signature").get(index);
    String text = new String(header.raw(field), StandardCharsets.US_ASCII);
    text = text.substring(0, text.length() - 2);
    Matcher b = B_VALUE.matcher(text);
    assertTrue(b.find());
    Matcher h = H_VALUE.matcher(text);
    assertTrue(h.find());
    List<String> names =
        Arrays.stream(h.group(1).split(":")).map(n -> n.replaceAll("\\s", "")).toList();
    return new Parts(
        text.substring(0, b.start(2)),
        Base64.getMimeDecoder().decode(b.group(2).replaceAll("\\s", "")),
        names);
  }

  private byte[] signedData(Parts parts) {
    return DkimSignature.dataToSign(
        message,
        header,
        parts.signedNames(),
        Canonicalization.RELAXED,
        parts.unsigned().getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void relaxedBodyHashIsTheRfcOne() {
    byte[] body = Canonicalization.RELAXED.body(message, header.bodyStart());
    assertEquals(
        "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=",
        Base64.getEncoder().encodeToString(DkimSignature.sha256(body)));
  }

  @Test
  void ed25519SignatureIsReproducedByteForByte() throws Exception {
    SigningKey key = KeyFiles.parse(ED25519_KEY);
    assertEquals(SigningAlgorithm.ED25519_SHA256, key.algorithm());
    assertEquals(ED25519_PUBLIC, key.publicKeyRecordValue());
    Parts parts = parts(0);
    assertEquals(
        Base64.getEncoder().encodeToString(parts.signature()),
        Base64.getEncoder().encodeToString(key.sign(signedData(parts))));
  }

  @Test
  void rsaSignatureVerifiesOverTheSameData() throws Exception {
    Parts parts = parts(1);
    RSADigestSigner verifier = new RSADigestSigner(new SHA256Digest());
    verifier.init(false, PublicKeyFactory.createKey(Base64.getDecoder().decode(RSA_PUBLIC)));
    byte[] data = signedData(parts);
    verifier.update(data, 0, data.length);
    assertTrue(verifier.verifySignature(parts.signature()));
  }
}
