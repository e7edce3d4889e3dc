package org.postilion.bounce.report;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * An ARF feedback report (RFC 5965) as KumoMTA writes it in a Feedback record's {@code
 * feedback_report}: the RFC's fields under their snake_case names, what else the report says under
 * {@code extensions}, the original message or its header when the report carries one, and what the
 * trace header of that original says under {@code supplemental_trace}.
 */
final class FeedbackReport {
  /** RFC 5965's fields that KumoMTA lifts out; the rest go to {@code extensions}. */
  private static final List<String> SINGLE =
      List.of(
          "feedback-type",
          "user-agent",
          "version",
          "arrival-date",
          "received-date",
          "incidents",
          "original-envelope-id",
          "original-mail-from",
          "reporting-mta",
          "source-ip");

  private static final List<String> MULTIPLE =
      List.of("authentication-results", "original-rcpt-to", "reported-domain", "reported-uri");

  private static final int MAX_ORIGINAL = 64 * 1024;

  private FeedbackReport() {}

  /**
   * The report's fields in KumoMTA's shape.
   *
   * @param problems where a missing required field is told
   */
  static Map<String, Object> parse(
      String fields, String originalMessage, Map<String, Object> trace, List<String> problems) {
    Map<String, List<String>> all = new TreeMap<>();
    for (Headers block : Headers.blocks(fields)) {
      block.forEach(
          (name, value) ->
              all.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                  .add(value.trim()));
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("feedback_type", lower(required(all, "feedback-type", problems)));
    report.put("user_agent", required(all, "user-agent", problems));
    report.put("version", required(all, "version", problems));
    String arrival = first(all, "arrival-date");
    report.put("arrival_date", date(arrival != null ? arrival : first(all, "received-date")));
    report.put("incidents", number(first(all, "incidents")));
    report.put("original_envelope_id", first(all, "original-envelope-id"));
    report.put("original_mail_from", angled(first(all, "original-mail-from")));
    report.put("reporting_mta", mta(first(all, "reporting-mta")));
    report.put("source_ip", first(all, "source-ip"));
    report.put("authentication_results", all.getOrDefault("authentication-results", List.of()));
    report.put(
        "original_rcpto_to",
        all.getOrDefault("original-rcpt-to", List.of()).stream()
            .map(FeedbackReport::angled)
            .toList());
    report.put("reported_domain", all.getOrDefault("reported-domain", List.of()));
    report.put("reported_uri", all.getOrDefault("reported-uri", List.of()));
    Map<String, Object> extensions = new TreeMap<>();
    all.forEach(
        (name, values) -> {
          if (!SINGLE.contains(name) && !MULTIPLE.contains(name)) {
            extensions.put(name, values);
          }
        });
    report.put("extensions", extensions);
    report.put(
        "original_message",
        originalMessage == null || originalMessage.length() <= MAX_ORIGINAL
            ? originalMessage
            : originalMessage.substring(0, MAX_ORIGINAL));
    report.put("supplemental_trace", trace);
    return report;
  }

  private static String first(Map<String, List<String>> all, String name) {
    List<String> values = all.get(name);
    return values == null || values.isEmpty() ? null : values.get(0).trim();
  }

  private static String required(
      Map<String, List<String>> all, String name, List<String> problems) {
    String value = first(all, name);
    if (value == null) {
      problems.add("the feedback report has no " + name + " field");
    }
    return value;
  }

  private static String lower(String value) {
    return value == null ? null : value.toLowerCase(Locale.ROOT);
  }

  private static Integer number(String value) {
    try {
      return value == null ? null : Integer.valueOf(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** An address as KumoMTA writes an envelope address: in angle brackets. */
  private static String angled(String value) {
    if (value == null) {
      return null;
    }
    String bare = MailAddresses.bare(value);
    if (bare == null) {
      return value.trim().equals("<>") ? "<>" : value.trim();
    }
    return "<" + bare + ">";
  }

  private static String date(String value) {
    if (value == null) {
      return null;
    }
    try {
      // A date with a trailing comment, "(UTC)": the comment is not part of RFC 5322's form.
      String cleaned = value.length() > 200 ? value.substring(0, 200) : value;
      int comment = cleaned.indexOf('(');
      if (comment > 0) {
        cleaned = cleaned.substring(0, comment);
      }
      return ZonedDateTime.parse(cleaned.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
          .toInstant()
          .toString();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static Map<String, Object> mta(String value) {
    if (value == null) {
      return null;
    }
    int semicolon = value.indexOf(';');
    Map<String, Object> mta = new LinkedHashMap<>();
    mta.put("mta_type", semicolon < 0 ? "dns" : value.substring(0, semicolon).trim());
    mta.put("name", (semicolon < 0 ? value : value.substring(semicolon + 1)).trim());
    return mta;
  }
}
