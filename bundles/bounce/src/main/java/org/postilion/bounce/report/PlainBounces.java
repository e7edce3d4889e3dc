package org.postilion.bounce.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the bounces that MTAs and providers write in their own words rather than (or besides) RFC
 * 3464: Postfix, Exim, Sendmail, qmail, Courier, OpenSMTPD, Microsoft Exchange and Office 365,
 * Gmail, Yahoo, Amazon SES and the "Mail Delivery Subsystem" family. Each names its failed
 * recipients on a line of their own or in a sentence, with the remote server's reply (or its own
 * reason) in the lines after; the format is recognised by its wording and names the result.
 */
final class PlainBounces {
  /** A recipient the bounce says failed, with the reply it gives for it. */
  record Failure(String address, int code, String enhancedCode, String content) {}

  /** The format recognised and its failures, or none. */
  record Found(String format, List<Failure> failures, boolean delayWarning) {}

  private record Format(String name, Pattern fingerprint) {}

  private static final List<Format> FORMATS =
      List.of(
          format("qmail", "qmail-send program|I'm afraid I wasn't able to deliver your message"),
          format("courier", "Courier mail server"),
          format("opensmtpd", "This is the MAILER-DAEMON, please DO NOT REPLY"),
          format("postfix", "This is the mail system at host|Postfix program"),
          format(
              "exim",
              "This message was created automatically by mail delivery software|"
                  + "following address\\(es\\) failed"),
          format(
              "sendmail",
              "following addresses had (permanent )?fatal errors|Transcript of session follows"),
          format(
              "exchange",
              "Delivery has failed to these recipients|Remote Server returned|"
                  + "couldn't be delivered to|Diagnostic information for administrators|"
                  + "Your message to .{1,200} couldn't be delivered"),
          format(
              "gmail",
              "The response from the remote server was|Your message wasn't delivered to|"
                  + "Address not found|Message not delivered"),
          format("yahoo", "Sorry, we were unable to deliver your message|yahoo\\.com"),
          format("ses", "amazonses\\.com|An error occurred while trying to deliver the mail"),
          format(
              "mail-delivery-subsystem",
              "Mail Delivery (Subsystem|System)|Undeliver(ed|able) Mail|"
                  + "Delivery (Status Notification|Failure)|failure notice|Returned mail"));

  /** Where the copy of the original message starts in the text: nothing after is the report. */
  private static final Pattern ORIGINAL_FOLLOWS =
      Pattern.compile(
          "(?im)^.{0,10}(below (this line )?is a copy of (the|your) (original )?message"
              + "|this is a copy of the (original )?message|original message (headers|follows)"
              + "|-{2,} ?original message ?-{2,}|the original message was:"
              + "|-{3,} ?(Undelivered|Returned) message ?-{3,})");

  // Lines reach these patterns cut to MAX_LINE characters and without line terminators of any
  // kind; quantifiers that could take the same characters are possessive, so that a line that
  // does not match costs about its length, however it is made.
  private static final Pattern RECIPIENT_LINE =
      Pattern.compile(
          "^\\s{0,8}+<?("
              + MailAddresses.ADDRESS
              + ")>?(?:\\s*+\\(expanded from [^)]{0,300}+\\))?\\s*+(?::|\\.\\.\\.|$)(.*+)");

  private static final Pattern RECIPIENT_SENTENCE =
      Pattern.compile(
          "(?i)(?:wasn't delivered to|could not be delivered to|couldn't be delivered to"
              + "|delivery to the following recipient failed[^:]{0,40}+:|message to)\\s*+<?("
              + MailAddresses.ADDRESS
              + ")>?");

  /** A reply: a code and, when there is one, an enhanced code, behind the usual prefixes. */
  private static final Pattern REPLY =
      Pattern.compile(
          "(?:^|said:|returned '|reason:|<<<|\\bwas:|[\\s(#:;'\"])\\s*+#?([245]\\d{2})(?:[ -]|:\\s)"
              + "\\s*+(?:#?([245]\\.\\d{1,3}\\.\\d{1,3})\\b)?+[\\s:]*+(.*+)");

  private static final Pattern HASH_STATUS = Pattern.compile("#([245]\\.\\d{1,3}\\.\\d{1,3})");

  private static final Pattern TRAILER =
      Pattern.compile(
          "(?i)\\s*+(\\(in reply to [^)]{0,60}+\\)|\\)\\s*+$|'\\s*+$|\\[\\S{0,100}+\\]\\s*+$|##\\s*+$)");

  private static final Pattern DELAY =
      Pattern.compile("(?i)\\bdelay(ed)?\\b|still being retried|will (keep|continue) trying");

  private static final int MAX_LINE = 1000;
  private static final int MAX_LINES = 5000;
  private static final Pattern TERMINATORS =
      Pattern.compile("[\\r\\u000B\\f\\u0085\\u2028\\u2029]");

  private PlainBounces() {}

  private static Format format(String name, String fingerprint) {
    return new Format(name, Pattern.compile("(?i)" + fingerprint));
  }

  /**
   * The failures of a bounce written in text.
   *
   * @param failedHeader addresses of {@code X-Failed-Recipients} (Exim, Gmail), perhaps none
   */
  static Found read(String subject, String from, String text, List<String> failedHeader) {
    Matcher original = ORIGINAL_FOLLOWS.matcher(text);
    if (original.find()) {
      text = text.substring(0, original.start());
    }
    String format = null;
    for (Format candidate : FORMATS) {
      if (candidate.fingerprint().matcher(text).find()
          || (subject != null && candidate.fingerprint().matcher(subject).find())) {
        format = candidate.name();
        break;
      }
    }
    boolean looksLikeBounce =
        format != null
            || !failedHeader.isEmpty()
            || (from != null
                && from.toLowerCase(Locale.ROOT).matches(".*(mailer-daemon|postmaster).*"));
    if (!looksLikeBounce) {
      return null;
    }
    // Lines are cut so that no pattern ever works on more than a screenful of hostile text.
    List<String> lines =
        java.util.Arrays.stream(text.split("\r?\n"))
            .limit(MAX_LINES)
            .map(line -> line.length() > MAX_LINE ? line.substring(0, MAX_LINE) : line)
            .map(line -> TERMINATORS.matcher(line).replaceAll(" "))
            .toList();
    Map<String, Failure> failures = new LinkedHashMap<>();
    List<Integer> starts = new ArrayList<>();
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      Matcher m = RECIPIENT_LINE.matcher(line);
      if (m.matches()) {
        starts.add(i);
        addresses.add(m.group(1));
        continue;
      }
      Matcher sentence = RECIPIENT_SENTENCE.matcher(line);
      if (sentence.find()) {
        starts.add(i);
        addresses.add(sentence.group(1));
      }
    }
    for (int n = 0; n < starts.size(); n++) {
      int from0 = starts.get(n);
      int end = Math.min(lines.size(), n + 1 < starts.size() ? starts.get(n + 1) : from0 + 25);
      if (end <= from0) {
        end = Math.min(lines.size(), from0 + 1);
      }
      Failure failure = failure(addresses.get(n), lines.subList(from0, end));
      if (failure != null) {
        failures.merge(
            failure.address().toLowerCase(Locale.ROOT),
            failure,
            (a, b) -> a.content().isEmpty() && !b.content().isEmpty() ? b : a);
      }
    }
    // Exim and Gmail list the failed recipients in a header: none of those is left out.
    for (String header : failedHeader) {
      for (String address : header.split("[,\\s]+")) {
        String bare = MailAddresses.bare(address);
        if (bare != null && !failures.containsKey(bare.toLowerCase(Locale.ROOT))) {
          failures.put(bare.toLowerCase(Locale.ROOT), new Failure(bare, 550, null, ""));
        }
      }
    }
    List<Failure> found = new ArrayList<>(failures.values());
    // Addresses in the text without any reply or reason are the sender's or the reporter's own.
    found.removeIf(
        f -> f.content().isEmpty() && f.enhancedCode() == null && !listed(f, failedHeader));
    boolean delay =
        (subject != null && DELAY.matcher(subject).find())
            && !found.isEmpty()
            && found.stream().allMatch(f -> f.code() < 500);
    return new Found(format == null ? "mail-delivery-subsystem" : format, found, delay);
  }

  private static boolean listed(Failure failure, List<String> failedHeader) {
    return failedHeader.stream()
        .anyMatch(
            h -> h.toLowerCase(Locale.ROOT).contains(failure.address().toLowerCase(Locale.ROOT)));
  }

  /** The reply for one recipient from the lines that follow its address. */
  private static Failure failure(String address, List<String> block) {
    for (int i = 0; i < block.size(); i++) {
      String line = block.get(i);
      // The address line itself may carry the reply (OpenSMTPD: "bob@example.com: 550 ...").
      String searched = i == 0 ? afterAddress(line, address) : line;
      Matcher m = REPLY.matcher(searched);
      if (m.find()) {
        boolean bare = searched.stripLeading().startsWith(m.group(1));
        StringBuilder content = new StringBuilder(m.group(3).trim());
        // The reply goes on in indented lines (Postfix, Exim) or until a blank line (Gmail).
        for (int j = i + 1; j < block.size() && j <= i + 6; j++) {
          String next = block.get(j);
          if (next.isBlank() || RECIPIENT_LINE.matcher(next).matches()) {
            break;
          }
          if (!Character.isWhitespace(next.charAt(0))) {
            // A reply quoted bare at the start of its lines goes on in lines with the same code
            // (Gmail); a quoted transcript repeats it, which is not more of it (Sendmail).
            Matcher more = REPLY.matcher(next);
            if (!bare || !more.find() || !more.group(1).equals(m.group(1))) {
              break;
            }
            content.append(' ').append(more.group(3).trim());
            continue;
          }
          content.append(' ').append(next.trim());
        }
        String text = TRAILER.matcher(content.toString()).replaceAll("").trim();
        String enhanced = m.group(2);
        if (enhanced == null) {
          Matcher hash = HASH_STATUS.matcher(text);
          enhanced = hash.find() ? hash.group(1) : null;
        }
        return new Failure(address, Integer.parseInt(m.group(1)), enhanced, text);
      }
    }
    // No reply: the bounce's own reason, the first text after the address (qmail, Exim).
    StringBuilder reason = new StringBuilder(afterAddress(block.get(0), address).trim());
    for (int i = 1; i < block.size() && reason.length() == 0; i++) {
      reason.append(block.get(i).trim());
    }
    String text = reason.toString();
    Matcher hash = HASH_STATUS.matcher(text);
    String enhanced = hash.find() ? hash.group(1) : null;
    int code = enhanced != null && enhanced.startsWith("4") ? 451 : 550;
    return new Failure(address, code, enhanced, TRAILER.matcher(text).replaceAll("").trim());
  }

  private static String afterAddress(String line, String address) {
    int at = line.indexOf(address);
    String rest = at < 0 ? line : line.substring(at + address.length());
    return rest.replaceFirst("^>?\\s*(\\(expanded from [^)]{0,300}\\))?\\s*(:|\\.\\.\\.)?", "");
  }
}
