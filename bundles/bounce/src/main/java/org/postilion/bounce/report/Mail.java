package org.postilion.bounce.report;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;

/**
 * The parts of a returned message that a report reader looks at: the top header, the text of each
 * part whose type can carry a report (each cut at {@link #MAX_PART_TEXT}), and the header of each
 * enclosed original message. Read in one pass with a bounded memory whatever the message holds: an
 * attachment of any size is skipped, not kept.
 */
final class Mail {
  static final int MAX_PART_TEXT = 256 * 1024;
  private static final int MAX_NESTING = 16;
  static final int MAX_PLAIN_TEXT = 64 * 1024;
  private static final int MAX_PARTS = 200;

  /** One leaf part: its type, its header, and its text when its type is one a report uses. */
  record Part(String mimeType, Headers headers, String text, int depth) {
    /** Whether the part is in a message enclosed in the report (the original, or a forward). */
    boolean inOriginal() {
      return depth > 1;
    }
  }

  /** The header of a message enclosed at this depth (the report itself is at 1). */
  record Enclosed(int depth, Headers headers) {}

  Headers top = new Headers();
  final List<Part> parts = new ArrayList<>();
  final List<Enclosed> enclosed = new ArrayList<>();
  final List<String> problems = new ArrayList<>();

  private Mail() {}

  /** The headers of the messages enclosed in the report: the original message's. */
  List<Headers> originals() {
    return enclosed.stream().map(Enclosed::headers).toList();
  }

  /**
   * The first enclosed message as a report of its own, for a report that was forwarded; {@code
   * null} when nothing is enclosed.
   */
  Mail forwarded() {
    if (enclosed.isEmpty()) {
      return null;
    }
    Mail inner = new Mail();
    inner.top = enclosed.get(0).headers();
    int shift = enclosed.get(0).depth() - 1;
    for (Part part : parts) {
      if (part.depth() > shift) {
        inner.parts.add(
            new Part(part.mimeType(), part.headers(), part.text(), part.depth() - shift));
      }
    }
    for (Enclosed e : enclosed.subList(1, enclosed.size())) {
      inner.enclosed.add(new Enclosed(e.depth() - shift, e.headers()));
    }
    inner.problems.addAll(problems);
    return inner;
  }

  static Mail read(InputStream in) throws IOException {
    Mail mail = new Mail();
    MimeConfig config =
        new MimeConfig.Builder()
            .setStrictParsing(false)
            .setMaxLineLen(-1)
            .setMaxHeaderCount(2000)
            .setMaxHeaderLen(64 * 1024)
            .setMaxContentLen(-1)
            .build();
    MimeTokenStream stream = new MimeTokenStream(config);
    stream.setRecursionMode(RecursionMode.M_RECURSE);
    stream.parse(in);
    int messages = 0;
    int multiparts = 0;
    Headers headers = null;
    boolean partHeader = false;
    try {
      for (EntityState state = stream.getState();
          state != EntityState.T_END_OF_STREAM;
          state = stream.next()) {
        switch (state) {
          case T_START_MESSAGE -> {
            // Enclosed messages nest like multiparts, and mime4j recurses through each level.
            if (++messages > MAX_NESTING) {
              mail.problems.add("messages enclosed deeper than " + MAX_NESTING + ": not read");
              return mail;
            }
            partHeader = false;
          }
          case T_END_MESSAGE -> messages--;
          case T_START_BODYPART -> partHeader = true;
          case T_START_HEADER -> {
            if (partHeader) {
              headers = new Headers();
            } else if (messages == 1) {
              headers = mail.top;
            } else {
              headers = new Headers();
              if (mail.enclosed.size() < MAX_PARTS) {
                mail.enclosed.add(new Enclosed(messages, headers));
              }
            }
          }
          case T_FIELD -> {
            if (headers != null) {
              headers.add(stream.getField().getName(), stream.getField().getBody());
            }
          }
          case T_START_MULTIPART -> {
            if (++multiparts > MAX_NESTING) {
              mail.problems.add("MIME parts nested deeper than " + MAX_NESTING + ": not read");
              return mail;
            }
          }
          case T_END_MULTIPART -> multiparts--;
          case T_BODY -> {
            if (mail.parts.size() >= MAX_PARTS) {
              mail.problems.add("more than " + MAX_PARTS + " parts: the rest not read");
              return mail;
            }
            String type = stream.getBodyDescriptor().getMimeType().toLowerCase(Locale.ROOT);
            Headers own = partHeader ? headers : messages == 1 ? mail.top : headers;
            String text =
                wanted(type)
                    ? text(stream.getDecodedInputStream(), stream.getBodyDescriptor().getCharset())
                    : null;
            mail.parts.add(new Part(type, own == null ? new Headers() : own, text, messages));
            partHeader = false;
          }
          default -> {}
        }
      }
    } catch (MimeException e) {
      mail.problems.add("the MIME structure is broken: " + e.getMessage());
    } catch (StackOverflowError e) {
      // Not expected with the nesting limit; a hostile message must never stop the reader.
      mail.problems.add("the MIME structure is too deep to read");
    }
    return mail;
  }

  /** The types a report or an auto-reply is written in. */
  private static boolean wanted(String type) {
    return type.startsWith("text/")
        || type.equals("message/delivery-status")
        || type.equals("message/global-delivery-status")
        || type.equals("message/feedback-report")
        || type.equals("message/disposition-notification");
  }

  private static String text(InputStream body, String charsetName) throws IOException {
    byte[] bytes = body.readNBytes(MAX_PART_TEXT);
    Charset charset = charset(charsetName);
    CharsetDecoder decoder =
        charset
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    try {
      return decoder.decode(ByteBuffer.wrap(bytes)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return new String(bytes, StandardCharsets.ISO_8859_1);
    }
  }

  private static Charset charset(String name) {
    if (name == null || name.isBlank()) {
      return StandardCharsets.UTF_8;
    }
    try {
      return Charset.forName(name.trim());
    } catch (IllegalArgumentException e) {
      // Unknown or misspelt: read as Latin-1, which keeps every byte and the ASCII of the report.
      return StandardCharsets.ISO_8859_1;
    }
  }

  /** The text of the first part of this type, outside of any enclosed original message. */
  String firstText(String mimeType) {
    for (Part part : parts) {
      if (!part.inOriginal() && part.mimeType().equals(mimeType) && part.text() != null) {
        return part.text();
      }
    }
    return null;
  }

  /**
   * The human-readable texts outside of enclosed original messages, in order, at most {@link
   * #MAX_PLAIN_TEXT} characters: a bounce says what it says in its first screens.
   */
  String plainText() {
    StringBuilder all = new StringBuilder();
    for (Part part : parts) {
      if (!part.inOriginal() && part.text() != null && part.mimeType().equals("text/plain")) {
        all.append(part.text()).append('\n');
      }
      if (all.length() >= MAX_PLAIN_TEXT) {
        return all.substring(0, MAX_PLAIN_TEXT);
      }
    }
    if (all.length() == 0) {
      for (Part part : parts) {
        if (!part.inOriginal() && part.text() != null && part.mimeType().equals("text/html")) {
          all.append(Html.toText(part.text())).append('\n');
        }
        if (all.length() >= MAX_PLAIN_TEXT) {
          return all.substring(0, MAX_PLAIN_TEXT);
        }
      }
    }
    return all.toString();
  }
}
