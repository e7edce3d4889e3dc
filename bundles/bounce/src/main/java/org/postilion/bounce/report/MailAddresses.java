package org.postilion.bounce.report;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds mail addresses in the free text of reports. */
final class MailAddresses {
  /** An address as reports write them: dot-atom local part (or quoted), a dotted domain. */
  static final String ADDRESS =
      "(?:\"[^\"\\r\\n]{1,64}\"|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64})@"
          + "(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z0-9-]{2,63}";

  private static final Pattern ANY = Pattern.compile(ADDRESS);

  private MailAddresses() {}

  /** The first address in the text ({@code <bob@example.com>}, {@code Bob <bob@...>}), or null. */
  static String bare(String text) {
    if (text == null) {
      return null;
    }
    Matcher m = ANY.matcher(text);
    return m.find() ? m.group() : null;
  }
}
