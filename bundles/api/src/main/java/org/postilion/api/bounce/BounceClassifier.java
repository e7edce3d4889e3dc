package org.postilion.api.bounce;

import org.postilion.api.delivery.Response;

/**
 * Sorts failure replies into bounce classes ({@code InvalidRecipient}, {@code QuotaIssues}, ...,
 * KumoMTA's labels), so that a sender knows whether to stop mailing an address or to wait.
 */
public interface BounceClassifier {
  /** The class of a reply that no rule matches. */
  String UNCATEGORIZED = "Uncategorized";

  /**
   * The class of a reply, matched as KumoMTA matches it: the single line {@code "550 5.1.1 text"},
   * the code, the enhanced code when there is one, and the text with each line break a space.
   */
  String classify(Response response);

  /** The line a reply is matched as, for tools that show what the rules saw. */
  static String singleLine(Response response) {
    StringBuilder line = new StringBuilder().append(response.code()).append(' ');
    String enhanced = response.enhancedCode();
    if (enhanced != null && !enhanced.isEmpty()) {
      line.append(enhanced).append(' ');
    }
    String content = response.content() == null ? "" : response.content();
    for (int i = 0; i < content.length(); i++) {
      char c = content.charAt(i);
      if (c == '\r' && i + 1 < content.length() && content.charAt(i + 1) == '\n') {
        continue;
      }
      line.append(c == '\r' || c == '\n' ? ' ' : c);
    }
    return line.toString();
  }
}
