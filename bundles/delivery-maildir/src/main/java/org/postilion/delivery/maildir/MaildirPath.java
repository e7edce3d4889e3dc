package org.postilion.delivery.maildir;

import java.nio.file.Path;
import org.postilion.api.message.Addresses;
import org.postilion.api.queue.QueueName;

/** Expands a {@code maildir.path} template for one recipient. */
final class MaildirPath {
  private MaildirPath() {}

  /**
   * @throws IllegalArgumentException when a value would leave the intended folder ({@code ..},
   *     {@code /}) or is empty where the template needs it
   */
  static Path expand(String template, String recipient, QueueName queue) {
    String path = template.trim();
    path = substitute(path, "{domain}", Addresses.domainOf(recipient), "domain", true);
    path = substitute(path, "{user}", Addresses.localPartOf(recipient), "mailbox", true);
    path = substitute(path, "{tenant}", queue.tenant(), "tenant", false);
    path = substitute(path, "{campaign}", queue.campaign(), "campaign", false);
    return Path.of(path).normalize();
  }

  private static String substitute(
      String path, String placeholder, String value, String what, boolean required) {
    if (!path.contains(placeholder)) {
      return path;
    }
    String safe = value == null ? "" : value;
    if (safe.isEmpty() && required) {
      throw new IllegalArgumentException("empty " + what + " name for maildir path " + path);
    }
    if (safe.equals(".")
        || safe.equals("..")
        || safe.indexOf('/') >= 0
        || safe.indexOf('\\') >= 0
        || safe.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("unsafe " + what + " name for a maildir path: " + safe);
    }
    return path.replace(placeholder, safe);
  }
}
