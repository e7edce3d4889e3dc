package org.postilion.dkim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.postilion.api.message.HeaderSection;

/** Makes the DKIM-Signature field of RFC 6376 section 5 for one message. */
public final class DkimSignature {
  private static final int LINE = 76;

  private DkimSignature() {}

  /**
   * The DKIM-Signature field, with its final CRLF, to put in front of the message.
   *
   * @param now the signing time, {@code t=}
   */
  public static byte[] field(byte[] message, SignatureSpec spec, SigningKey key, Instant now) {
    HeaderSection header = HeaderSection.parse(message);
    BodyHash body = BodyHash.of(message, header.bodyStart(), spec.bodyCanonicalization());
    return field(message, header, body, spec, key, now);
  }

  /**
   * The same, for a message whose header section the caller has already split and whose body it has
   * hashed.
   *
   * @param head the header section (or the whole message): {@code header} was parsed from it
   */
  static byte[] field(
      byte[] head,
      HeaderSection header,
      BodyHash body,
      SignatureSpec spec,
      SigningKey key,
      Instant now) {
    if (key.algorithm() != spec.algorithm()) {
      throw new IllegalArgumentException(
          "the key is an " + key.algorithm() + " key, the signature is " + spec.algorithm());
    }
    List<String> signed = signedNames(header, spec);

    Folder tags = new Folder("DKIM-Signature:");
    tags.tag("v=1;");
    tags.tag("a=" + spec.algorithm().tagValue() + ";");
    tags.tag(
        "c="
            + spec.headerCanonicalization().tagValue()
            + "/"
            + spec.bodyCanonicalization().tagValue()
            + ";");
    tags.tag("d=" + spec.domain() + ";");
    tags.tag("s=" + spec.selector() + ";");
    tags.tag("t=" + now.getEpochSecond() + ";");
    if (spec.expiration() != null) {
      tags.tag("x=" + now.plus(spec.expiration()).getEpochSecond() + ";");
    }
    if (spec.bodyLength()) {
      tags.tag("l=" + body.length() + ";");
    }
    tags.list("h=", signed);
    tags.tag("bh=" + base64(body.sha256()) + ";");
    tags.tag("b=");
    String unsigned = tags.text();

    byte[] data =
        dataToSign(
            head,
            header,
            signed,
            spec.headerCanonicalization(),
            unsigned.getBytes(StandardCharsets.US_ASCII));
    tags.value(base64(key.sign(data)));
    return (tags.text() + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The data a signature covers (RFC 6376 section 3.7): the signed header fields, then the
   * signature field itself with an empty {@code b=} value and no final CRLF.
   *
   * @param signatureField the DKIM-Signature field as it will appear, ending just after {@code b=}
   */
  static byte[] dataToSign(
      byte[] message,
      HeaderSection header,
      List<String> signedNames,
      Canonicalization canonicalization,
      byte[] signatureField) {
    ByteArrayOutputStream data = new ByteArrayOutputStream(1024);
    // Several fields of one name are signed from the bottom up (RFC 6376 section 5.4.2); a name
    // listed more often than it occurs signs the absence of another one.
    Map<String, Integer> taken = new HashMap<>();
    for (String name : signedNames) {
      List<HeaderSection.Field> fields = header.named(name);
      int index = fields.size() - taken.merge(name, 1, Integer::sum);
      if (index >= 0) {
        data.writeBytes(canonicalization.header(header.raw(fields.get(index))));
      }
    }
    byte[] own = canonicalization.header(signatureField);
    if (canonicalization == Canonicalization.RELAXED) {
      data.write(own, 0, own.length - 2); // without the CRLF that relaxed form ends with
    } else {
      data.writeBytes(own);
    }
    return data.toByteArray();
  }

  /**
   * The {@code h=} list: each configured field as often as it occurs, oversigned ones once more.
   */
  static List<String> signedNames(HeaderSection header, SignatureSpec spec) {
    List<String> names = new ArrayList<>();
    for (String name : spec.headers()) {
      int count = header.named(name).size();
      if (spec.oversigned().contains(name)) {
        count++;
      }
      for (int i = 0; i < count; i++) {
        names.add(name);
      }
    }
    return names;
  }

  static byte[] sha256(byte[] data) {
    SHA256Digest digest = new SHA256Digest();
    digest.update(data, 0, data.length);
    byte[] hash = new byte[digest.getDigestSize()];
    digest.doFinal(hash, 0);
    return hash;
  }

  private static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** Writes tags separated by spaces, folding lines before they pass {@value #LINE} characters. */
  private static final class Folder {
    private final StringBuilder text;
    private int column;

    Folder(String start) {
      text = new StringBuilder(start);
      column = start.length();
    }

    void tag(String tag) {
      separate(tag.length());
      append(tag);
    }

    /** A colon-separated list, folded after a colon where needed. */
    void list(String tag, List<String> items) {
      separate(tag.length() + (items.isEmpty() ? 1 : items.get(0).length() + 1));
      append(tag);
      for (int i = 0; i < items.size(); i++) {
        String item = items.get(i) + (i + 1 < items.size() ? ":" : ";");
        if (i > 0 && column + item.length() > LINE) {
          fold();
        }
        append(item);
      }
    }

    /** A long value without separators (a signature), split over as many lines as it takes. */
    void value(String value) {
      int pos = 0;
      while (pos < value.length()) {
        int room = Math.max(LINE - column, 0);
        if (room == 0) {
          fold();
          room = LINE - column;
        }
        int end = Math.min(value.length(), pos + room);
        append(value.substring(pos, end));
        pos = end;
      }
    }

    String text() {
      return text.toString();
    }

    private void separate(int nextLength) {
      if (column + 1 + nextLength > LINE) {
        fold();
      } else {
        append(" ");
      }
    }

    private void fold() {
      text.append("\r\n\t");
      column = 8;
    }

    private void append(String part) {
      text.append(part);
      column += part.length();
    }
  }
}
