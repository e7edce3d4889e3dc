package org.postilion.bounce.report;

import java.util.regex.Pattern;

/** Text of an HTML part, enough to find addresses and replies in a bounce written only as HTML. */
final class Html {
  private static final Pattern DROPPED =
      Pattern.compile("(?is)<(script|style|head)\\b[^>]{0,1000}>.{0,100000}?</\\1\\s*>");
  private static final Pattern BREAKS =
      Pattern.compile("(?i)<(br|/p|/div|/tr|/li|/h\\d)\\b[^>]{0,1000}>");
  private static final Pattern TAGS = Pattern.compile("<[^>]{0,1000}>");

  private Html() {}

  static String toText(String html) {
    String text = DROPPED.matcher(html).replaceAll(" ");
    text = BREAKS.matcher(text).replaceAll("\n");
    text = TAGS.matcher(text).replaceAll("");
    return text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
  }
}
