package org.postilion.bounce.report;

import java.util.Locale;

/**
 * Text of an HTML part, enough to find addresses and replies in a bounce written only as HTML. One
 * pass over the characters, whatever the markup: hostile HTML costs no more than its length.
 */
final class Html {
  private static final int MAX_TAG = 1000;

  private Html() {}

  static String toText(String html) {
    StringBuilder text = new StringBuilder(Math.min(html.length(), Mail.MAX_PLAIN_TEXT));
    String lower = html.toLowerCase(Locale.ROOT);
    int i = 0;
    while (i < html.length() && text.length() < Mail.MAX_PLAIN_TEXT) {
      char c = html.charAt(i);
      if (c != '<') {
        text.append(c);
        i++;
        continue;
      }
      int close = -1;
      for (int j = i + 1; j < Math.min(html.length(), i + MAX_TAG); j++) {
        if (html.charAt(j) == '>') {
          close = j;
          break;
        }
      }
      if (close < 0) {
        // Not a tag: a lone '<' is text.
        text.append(c);
        i++;
        continue;
      }
      String name = tagName(lower, i + 1, close);
      if (name.equals("script") || name.equals("style") || name.equals("head")) {
        // Their content is not text: skip to the end tag, or to the end when there is none.
        int end = lower.indexOf("</" + name, close);
        int gt = end < 0 ? -1 : lower.indexOf('>', end);
        i = gt < 0 ? html.length() : gt + 1;
        text.append(' ');
        continue;
      }
      if (name.equals("br")
          || name.equals("/p")
          || name.equals("/div")
          || name.equals("/tr")
          || name.equals("/li")
          || (name.length() == 3 && name.startsWith("/h"))) {
        text.append('\n');
      }
      i = close + 1;
    }
    return text.toString()
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
  }

  private static String tagName(String lower, int from, int to) {
    int end = from;
    if (end < to && lower.charAt(end) == '/') {
      end++;
    }
    while (end < to && Character.isLetterOrDigit(lower.charAt(end))) {
      end++;
    }
    return lower.substring(from, end);
  }
}
