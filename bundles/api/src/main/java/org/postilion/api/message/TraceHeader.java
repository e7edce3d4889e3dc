package org.postilion.api.message;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.postilion.api.json.Json;

/**
 * The trace header added to every message Postilion sends ({@code X-Postilion-Ref}), which ties a
 * bounce or complaint that quotes it back to the message: its id, tenant, campaign and, for a
 * message with one recipient, the recipient and queue. The value is {@code <payload>.<mac>}: the
 * payload is base64url JSON, readable by anyone; the mac is an HMAC-SHA256 over it with the key of
 * {@code etc/postilion-trace.key}, so that a report cannot tie itself to a message it did not come
 * back about. Nodes that should read each other's reports share that file.
 */
public final class TraceHeader {
  public static final String NAME = "X-Postilion-Ref";
  private static final int MAC_BYTES = 16;
  private static final int MAX_VALUE = 16 * 1024;
  private static final int FOLD_AT = 76;
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Pattern FIELD =
      Pattern.compile("\"(\\w+)\":(null|\"((?:[^\"\\\\]|\\\\.)*)\")");

  /** What the header says; any part may be {@code null}. */
  public record Trace(
      String messageId, String tenant, String campaign, String queue, String recipient) {}

  /** One keyed Mac per thread: looking one up and keying it costs more than using it. */
  private final ThreadLocal<Mac> macs;

  public TraceHeader(byte[] key) {
    if (key.length < 16) {
      throw new IllegalArgumentException("a trace key has at least 16 bytes");
    }
    SecretKeySpec secret = new SecretKeySpec(key.clone(), "HmacSHA256");
    this.macs =
        ThreadLocal.withInitial(
            () -> {
              try {
                Mac hmac = Mac.getInstance("HmacSHA256");
                hmac.init(secret);
                return hmac;
              } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
              }
            });
  }

  /** The header field's value for this trace. */
  public String value(Trace trace) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("id", trace.messageId());
    json.put("tenant", trace.tenant());
    json.put("campaign", trace.campaign());
    json.put("queue", trace.queue());
    json.put("recipient", trace.recipient());
    String payload = ENCODER.encodeToString(Json.write(json).getBytes(StandardCharsets.UTF_8));
    return payload + "." + ENCODER.encodeToString(mac(payload));
  }

  /**
   * The whole header field with its CRLF, folded into lines of at most {@value #FOLD_AT} characters
   * of the value (RFC 5322 limits a line to 998): long names and addresses fit.
   */
  public byte[] field(Trace trace) {
    String value = value(trace);
    StringBuilder field = new StringBuilder(NAME).append(": ");
    for (int at = 0; at < value.length(); at += FOLD_AT) {
      if (at > 0) {
        field.append("\r\n ");
      }
      field.append(value, at, Math.min(value.length(), at + FOLD_AT));
    }
    return field.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * What a header value says, when it was made with this key; empty for a value that is forged,
   * damaged or not ours. Folding white space is ignored.
   */
  public Optional<Trace> read(String value) {
    if (value == null || value.length() > MAX_VALUE) {
      return Optional.empty();
    }
    String compact = value.replaceAll("\\s+", "");
    int dot = compact.indexOf('.');
    if (dot <= 0) {
      return Optional.empty();
    }
    String payload = compact.substring(0, dot);
    byte[] mac;
    byte[] json;
    try {
      mac = Base64.getUrlDecoder().decode(compact.substring(dot + 1));
      json = Base64.getUrlDecoder().decode(payload);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(mac, mac(payload))) {
      return Optional.empty();
    }
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher m = FIELD.matcher(new String(json, StandardCharsets.UTF_8));
    while (m.find()) {
      fields.put(m.group(1), m.group(3) == null ? null : unescape(m.group(3)));
    }
    return Optional.of(
        new Trace(
            fields.get("id"),
            fields.get("tenant"),
            fields.get("campaign"),
            fields.get("queue"),
            fields.get("recipient")));
  }

  private byte[] mac(String payload) {
    Mac hmac = macs.get();
    byte[] full = hmac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
    return java.util.Arrays.copyOf(full, MAC_BYTES);
  }

  private static String unescape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c != '\\' || i + 1 >= text.length()) {
        out.append(c);
        continue;
      }
      char next = text.charAt(++i);
      switch (next) {
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'u' -> {
          if (i + 4 < text.length()) {
            out.append((char) Integer.parseInt(text.substring(i + 1, i + 5), 16));
            i += 4;
          }
        }
        default -> out.append(next);
      }
    }
    return out.toString();
  }

  /**
   * The key in the file, made (32 random bytes, hex, readable by the owner only) when there is
   * none. Nodes that share the file read each other's trace headers.
   */
  public static TraceHeader fromKeyFile(Path file) throws IOException {
    if (!Files.exists(file)) {
      byte[] fresh = new byte[32];
      new SecureRandom().nextBytes(fresh);
      Path folder = file.toAbsolutePath().getParent();
      Files.createDirectories(folder);
      Path made = Files.createTempFile(folder, ".trace-key", ".tmp");
      try {
        try {
          Files.setPosixFilePermissions(made, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // Not a POSIX file system: the folder's permissions protect it.
        }
        Files.writeString(
            made,
            HexFormat.of().formatHex(fresh) + "\n",
            StandardCharsets.US_ASCII,
            StandardOpenOption.WRITE,
            StandardOpenOption.SYNC);
        // A link is made whole or not at all: two components starting at once read one key.
        Files.createLink(file, made);
      } catch (FileAlreadyExistsException e) {
        // Made by another component in the meantime: read it.
      } finally {
        Files.deleteIfExists(made);
      }
    }
    String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    try {
      return new TraceHeader(HexFormat.of().parseHex(text));
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": the trace key must be at least 32 hex digits", e);
    }
  }
}
