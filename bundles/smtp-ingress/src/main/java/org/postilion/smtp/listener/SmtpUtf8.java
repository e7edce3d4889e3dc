package org.postilion.smtp.listener;

import java.net.IDN;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.james.protocols.api.ProtocolSession;
import org.apache.james.protocols.api.ProtocolSession.State;
import org.apache.james.protocols.api.Response;
import org.apache.james.protocols.api.handler.ProtocolHandler;
import org.apache.james.protocols.smtp.SMTPResponse;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.esmtp.EhloExtension;

/**
 * SMTPUTF8 (RFC 6531): UTF-8 addresses in MAIL and RCPT once the client has said SMTPUTF8 on MAIL.
 * James's address parser knows only ASCII, so each UTF-8 address is handed to it as a stand-in
 * ({@code smtputf8.<n>@<A-label domain>}) and turned back into the client's address when the
 * message is spooled. Domains are stored as A-labels (RFC 5890), which is what DNS answers for.
 */
final class SmtpUtf8 implements EhloExtension, ProtocolHandler {
  private static final ProtocolSession.AttachmentKey<Transaction> TRANSACTION =
      ProtocolSession.AttachmentKey.of("postilion.smtputf8", Transaction.class);

  /** The stand-ins of one transaction, and whether MAIL asked for SMTPUTF8. */
  static final class Transaction {
    final Map<String, String> originals = new HashMap<>();
    boolean declared;
  }

  @Override
  public List<String> getImplementedEsmtpFeatures(SMTPSession session) {
    return List.of("SMTPUTF8");
  }

  /** True when the transaction's MAIL carried SMTPUTF8. */
  static boolean declared(SMTPSession session) {
    return session.getAttachment(TRANSACTION, State.Transaction).map(t -> t.declared).orElse(false);
  }

  /** The client's own spelling of an address James saw as a stand-in. */
  static String original(SMTPSession session, String address) {
    return session
        .getAttachment(TRANSACTION, State.Transaction)
        .map(t -> t.originals.getOrDefault(address, address))
        .orElse(address);
  }

  /** {@code text} with every stand-in address of the transaction back in the client's spelling. */
  static String restoreStandIns(SMTPSession session, String text) {
    Transaction transaction = session.getAttachment(TRANSACTION, State.Transaction).orElse(null);
    if (transaction == null || !text.contains("smtputf8.")) {
      return text;
    }
    String restored = text;
    for (Map.Entry<String, String> entry : transaction.originals.entrySet()) {
      if (!entry.getKey().equals(entry.getValue())) {
        restored = restored.replace(entry.getKey(), entry.getValue());
      }
    }
    return restored;
  }

  /** Notes SMTPUTF8 on an ASCII MAIL. Non-ASCII lines go through {@link #rewrite}. */
  static void noteAsciiMail(SMTPSession session, byte[] line) {
    String text = new String(line, StandardCharsets.US_ASCII);
    if (text.regionMatches(true, 0, "MAIL ", 0, 5) && asksForSmtpUtf8(text)) {
      transaction(session).declared = true;
    }
  }

  /** True when the MAIL parameters, after the address, include SMTPUTF8. */
  private static boolean asksForSmtpUtf8(String mail) {
    int close = mail.indexOf('>');
    return close > 0
        && Arrays.stream(mail.substring(close + 1).trim().split("\\s+"))
            .anyMatch(parameter -> parameter.equalsIgnoreCase("SMTPUTF8"));
  }

  /** A line for James's parser, or the reply that refuses it. */
  record Rewritten(byte[] line, Response refusal) {}

  static Rewritten rewrite(SMTPSession session, byte[] line) {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(line))
              .toString();
    } catch (CharacterCodingException e) {
      return refuse("500", "5.5.2 Invalid UTF-8 in command");
    }
    String command = text.length() >= 4 ? text.substring(0, 4).toUpperCase(Locale.ROOT) : "";
    boolean mail = command.equals("MAIL");
    if (!mail && !command.equals("RCPT")) {
      return refuse("500", "5.5.2 Non-ASCII characters are allowed in addresses only");
    }
    if (mail && asksForSmtpUtf8(text)) {
      transaction(session).declared = true;
    }
    if (!declared(session)) {
      return refuse("553", "5.6.7 Non-ASCII address needs the SMTPUTF8 parameter on MAIL");
    }
    int open = text.indexOf('<');
    int close = text.indexOf('>', open + 1);
    int at = text.lastIndexOf('@', close);
    if (open < 0 || close < 0 || at <= open + 1 || at >= close - 1) {
      return refuse("501", "5.1.7 Bad address syntax");
    }
    String local = text.substring(open + 1, at);
    String domain;
    try {
      domain = IDN.toASCII(text.substring(at + 1, close), IDN.USE_STD3_ASCII_RULES);
    } catch (IllegalArgumentException e) {
      return refuse("553", "5.1.3 Bad domain name: " + e.getMessage());
    }
    String original = local + "@" + domain;
    String standIn = original;
    Transaction transaction = transaction(session);
    if (!isAscii(local)) {
      standIn = "smtputf8." + (transaction.originals.size() + 1) + "@" + domain;
    }
    transaction.originals.put(standIn, original);
    String rewritten = text.substring(0, open + 1) + standIn + text.substring(close);
    return new Rewritten(rewritten.getBytes(StandardCharsets.US_ASCII), null);
  }

  /** A 500 or 501 counts as a bad command; a policy refusal (553) does not. */
  private static Rewritten refuse(String code, String description) {
    Response response =
        code.startsWith("50")
            ? new ErrorLimit.BadCommandResponse(code, description)
            : new SMTPResponse(code, description);
    return new Rewritten(null, response);
  }

  private static Transaction transaction(SMTPSession session) {
    return session
        .getAttachment(TRANSACTION, State.Transaction)
        .orElseGet(
            () -> {
              Transaction created = new Transaction();
              session.setAttachment(TRANSACTION, created, State.Transaction);
              return created;
            });
  }

  static boolean isAscii(String text) {
    return text.chars().allMatch(c -> c < 0x80);
  }

  static boolean isAscii(byte[] line) {
    for (byte b : line) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }
}
