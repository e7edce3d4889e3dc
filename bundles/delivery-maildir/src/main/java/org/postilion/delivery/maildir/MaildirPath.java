package org.postilion.delivery.maildir;

import java.nio.file.Path;
import java.util.Locale;
import org.postilion.api.message.Addresses;
import org.postilion.api.queue.QueueName;

/**
 * Expands a {@code maildir.path} template for one recipient. The values come from the client (the
 * recipient's address, tenant and campaign headers), so they are hostile: the template is expanded
 * in one pass (a value is never read as a placeholder), each value must be a plain folder name, and
 * the final path must lie under the template's fixed part.
 */
final class MaildirPath {
  private static final String[] PLACEHOLDERS = {"domain", "user", "tenant", "campaign"};

  private MaildirPath() {}

  /**
   * The root the template's placeholders are confined to: everything before the folder holding the
   * first placeholder.
   *
   * @throws IllegalArgumentException when the template names an unknown placeholder or has a {@code
   *     .} or {@code ..} segment of its own
   */
  static Path root(String template) {
    String trimmed = template.trim();
    int open = trimmed.indexOf('{');
    String fixed = open < 0 ? trimmed : trimmed.substring(0, open);
    checkPlaceholders(trimmed);
    int slash = fixed.lastIndexOf('/');
    Path root = Path.of(slash < 0 ? "" : fixed.substring(0, slash + 1));
    for (Path segment : Path.of(trimmed.replace("{", "_").replace("}", "_"))) {
      String name = segment.toString();
      if (name.equals(".") || name.equals("..")) {
        throw new IllegalArgumentException("maildir.path may not contain '" + name + "' folders");
      }
    }
    return root.toAbsolutePath();
  }

  /**
   * @throws IllegalArgumentException when a value is not a plain folder name, is empty where the
   *     template needs it, or the path would leave the template's root
   */
  static Path expand(String template, String recipient, QueueName queue) {
    String trimmed = template.trim();
    Path root = root(trimmed);
    StringBuilder path = new StringBuilder(trimmed.length() + 64);
    int i = 0;
    while (i < trimmed.length()) {
      char c = trimmed.charAt(i);
      if (c != '{') {
        path.append(c);
        i++;
        continue;
      }
      int close = trimmed.indexOf('}', i);
      String name = trimmed.substring(i + 1, close);
      path.append(value(name, recipient, queue));
      i = close + 1;
    }
    Path expanded = Path.of(path.toString()).toAbsolutePath();
    for (Path segment : expanded) {
      String name = segment.toString();
      if (name.equals(".") || name.equals("..")) {
        throw new IllegalArgumentException("unsafe maildir path " + expanded);
      }
    }
    Path normalized = expanded.normalize();
    if (!normalized.startsWith(root) || normalized.equals(root)) {
      throw new IllegalArgumentException("maildir path " + normalized + " leaves " + root);
    }
    return normalized;
  }

  private static void checkPlaceholders(String template) {
    int i = template.indexOf('{');
    while (i >= 0) {
      int close = template.indexOf('}', i);
      if (close < 0) {
        throw new IllegalArgumentException("maildir.path has an unclosed '{'");
      }
      String name = template.substring(i + 1, close);
      boolean known = false;
      for (String placeholder : PLACEHOLDERS) {
        known |= placeholder.equals(name);
      }
      if (!known) {
        throw new IllegalArgumentException(
            "maildir.path has an unknown placeholder {"
                + name
                + "}; use {domain}, {user},"
                + " {tenant} or {campaign}");
      }
      i = template.indexOf('{', close);
    }
    if (template.indexOf('}') >= 0 && template.indexOf('{') < 0) {
      throw new IllegalArgumentException("maildir.path has a '}' without '{'");
    }
  }

  private static String value(String placeholder, String recipient, QueueName queue) {
    return switch (placeholder) {
      case "domain" -> folderName("domain", Addresses.domainOf(recipient), true);
      case "user" -> folderName("mailbox", unquoted(Addresses.localPartOf(recipient)), true);
      case "tenant" -> folderName("tenant", queue.tenant(), false);
      case "campaign" -> folderName("campaign", queue.campaign(), false);
      default -> throw new IllegalArgumentException("unknown placeholder {" + placeholder + "}");
    };
  }

  /**
   * A value as one folder name: no separators, no placeholder braces, no control characters, no
   * leading dot (which would also make {@code .} and {@code ..}).
   */
  static String folderName(String what, String value, boolean required) {
    String name = value == null ? "" : value;
    if (name.isEmpty()) {
      if (required) {
        throw new IllegalArgumentException("empty " + what + " name for a maildir path");
      }
      return name;
    }
    if (name.startsWith(".") || name.length() > 255) {
      throw new IllegalArgumentException("unsafe " + what + " name for a maildir path");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '/' || c == '\\' || c == '{' || c == '}' || c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException(
            "unsafe "
                + what
                + " name for a maildir path: character "
                + String.format(Locale.ROOT, "U+%04X", (int) c));
      }
    }
    return name;
  }

  /**
   * The local part without the quotes of RFC 5321's quoted-string form: {@code "john doe"} names
   * the folder {@code john doe}.
   */
  static String unquoted(String localPart) {
    if (localPart.length() < 2 || !localPart.startsWith("\"") || !localPart.endsWith("\"")) {
      return localPart;
    }
    StringBuilder plain = new StringBuilder(localPart.length());
    for (int i = 1; i < localPart.length() - 1; i++) {
      char c = localPart.charAt(i);
      if (c == '\\' && i + 1 < localPart.length() - 1) {
        c = localPart.charAt(++i);
      }
      plain.append(c);
    }
    return plain.toString();
  }
}
