package org.postilion.dkim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RFC 6376 section 3.4.6's example, and the edge cases of empty and trailing-blank bodies. */
class CanonicalizationTest {

  private static String header(Canonicalization c, String field) {
    return new String(c.header(bytes(field)), StandardCharsets.ISO_8859_1);
  }

  private static String body(Canonicalization c, String body) {
    return new String(c.body(bytes(body), 0), StandardCharsets.ISO_8859_1);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void rfcExample() {
    assertEquals("a:X\r\n", header(Canonicalization.RELAXED, "A: X\r\n"));
    assertEquals("b:Y Z\r\n", header(Canonicalization.RELAXED, "B : Y\t\r\n\tZ  \r\n"));
    assertEquals("B : Y\t\r\n\tZ  \r\n", header(Canonicalization.SIMPLE, "B : Y\t\r\n\tZ  \r\n"));
    assertEquals(" C\r\nD E\r\n", body(Canonicalization.RELAXED, " C \r\nD \t E\r\n\r\n\r\n"));
    assertEquals(" C \r\nD \t E\r\n", body(Canonicalization.SIMPLE, " C \r\nD \t E\r\n\r\n\r\n"));
  }

  @Test
  void emptyBodies() {
    assertEquals("\r\n", body(Canonicalization.SIMPLE, ""));
    assertEquals("\r\n", body(Canonicalization.SIMPLE, "\r\n\r\n"));
    assertEquals("", body(Canonicalization.RELAXED, ""));
    assertEquals("", body(Canonicalization.RELAXED, " \r\n\t\r\n"));
  }

  @Test
  void missingFinalLineBreakIsAdded() {
    assertEquals("x\r\n", body(Canonicalization.SIMPLE, "x"));
    assertEquals("x\r\n", body(Canonicalization.RELAXED, "x  "));
  }

  @Test
  void eightBitBytesPassUnchanged() {
    String latin = "caf\u00e9 \u00fc\r\n";
    assertEquals(latin, body(Canonicalization.RELAXED, latin));
    assertEquals(
        "subject:caf\u00e9\r\n", header(Canonicalization.RELAXED, "Subject: caf\u00e9 \r\n"));
  }

  /** Writes split anywhere, CR and LF in separate writes included, give the same canonical body. */
  @Test
  void theBodyIsTheSameHoweverItsBytesArrive() throws Exception {
    java.util.Random random = new java.util.Random(42);
    byte[] alphabet = bytes("ab \t\r\n\r\n\r\n.x");
    for (int round = 0; round < 500; round++) {
      byte[] body = new byte[random.nextInt(200)];
      for (int i = 0; i < body.length; i++) {
        body[i] = alphabet[random.nextInt(alphabet.length)];
      }
      for (Canonicalization c : Canonicalization.values()) {
        byte[] whole = c.body(body, 0);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        BodyCanonicalizer pieces = new BodyCanonicalizer(c, out);
        int pos = 0;
        while (pos < body.length) {
          int n = Math.min(body.length - pos, 1 + random.nextInt(3));
          pieces.write(body, pos, n);
          pos += n;
        }
        pieces.finish();
        org.junit.jupiter.api.Assertions.assertArrayEquals(whole, out.toByteArray(), c.name());
        assertEquals(whole.length, pieces.length());
      }
    }
  }

  @Test
  void aLoneCrOrLfIsLineContent() {
    assertEquals("a\rb\r\n", body(Canonicalization.SIMPLE, "a\rb"));
    assertEquals("a\nb\r\n", body(Canonicalization.RELAXED, "a\nb\r\n"));
    assertEquals("a\r\r\n", body(Canonicalization.SIMPLE, "a\r\r\n"));
  }
}
