package org.postilion.bounce.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fields of an RFC 3464 {@code message/delivery-status} part: the per-message block (who
 * reported) and one block per recipient (its action, status and the remote server's reply).
 */
final class DeliveryStatus {
  /** What the report says of one recipient. */
  record Recipient(
      String address, String action, String status, String diagnosticType, String diagnostic) {

    boolean failed() {
      return action.equals("failed");
    }
  }

  private static final Pattern STATUS = Pattern.compile("([245])\\.(\\d{1,3})\\.(\\d{1,3})");

  final String reportingMta;
  final List<Recipient> recipients;

  private DeliveryStatus(String reportingMta, List<Recipient> recipients) {
    this.reportingMta = reportingMta;
    this.recipients = recipients;
  }

  static DeliveryStatus parse(String text) {
    String reportingMta = null;
    List<Recipient> recipients = new ArrayList<>();
    for (Headers block : Headers.blocks(text)) {
      if (reportingMta == null && block.get("Reporting-MTA") != null) {
        reportingMta = typed(block.get("Reporting-MTA"));
      }
      String finalRecipient = block.get("Final-Recipient");
      String original = block.get("Original-Recipient");
      if (finalRecipient == null && original == null) {
        continue;
      }
      String address = MailAddresses.bare(typed(original != null ? original : finalRecipient));
      if (address == null && original != null && finalRecipient != null) {
        address = MailAddresses.bare(typed(finalRecipient));
      }
      String action = block.get("Action");
      String status = block.get("Status");
      String diagnostic = block.get("Diagnostic-Code");
      String diagnosticType = null;
      if (diagnostic != null) {
        int semicolon = diagnostic.indexOf(';');
        if (semicolon > 0) {
          diagnosticType = diagnostic.substring(0, semicolon).trim().toLowerCase(Locale.ROOT);
          diagnostic = diagnostic.substring(semicolon + 1).trim();
        }
      }
      recipients.add(
          new Recipient(
              address,
              action(action),
              status == null ? null : status(status),
              diagnosticType,
              diagnostic));
    }
    return new DeliveryStatus(reportingMta, recipients);
  }

  /** The action word of an Action field ({@code failed (bad destination)} is {@code failed}). */
  private static String action(String field) {
    if (field == null) {
      return "";
    }
    String text = field.trim().toLowerCase(Locale.ROOT);
    int end = 0;
    while (end < text.length() && Character.isLetter(text.charAt(end))) {
      end++;
    }
    return text.substring(0, end);
  }

  /** The status code in a Status field ({@code 5.1.1 (user unknown)} has {@code 5.1.1}). */
  static String status(String field) {
    Matcher m = STATUS.matcher(field);
    return m.find() ? m.group() : null;
  }

  /** The value of a typed field ({@code rfc822; bob@example.com}, {@code dns; mx.example.com}). */
  private static String typed(String value) {
    int semicolon = value.indexOf(';');
    return (semicolon >= 0 ? value.substring(semicolon + 1) : value).trim();
  }
}
