package org.postilion.queue.manager;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.postilion.api.message.HeaderSection;

/**
 * Takes named header fields out of a message's header section, folded continuation lines and all,
 * and returns their unfolded values. The rest of the message is left byte for byte as it was.
 */
final class HeaderEditor {

  /** The message without the removed fields, and the first value of each removed field name. */
  record Result(byte[] content, Map<String, String> removed) {}

  private HeaderEditor() {}

  /**
   * @param names field names to remove, lower-case
   */
  static Result remove(byte[] message, Set<String> names) {
    HeaderSection header = HeaderSection.parse(message);
    Map<String, String> removed = new HashMap<>();
    for (HeaderSection.Field field : header.fields()) {
      String name = field.name().toLowerCase(Locale.ROOT);
      if (names.contains(name)) {
        removed.putIfAbsent(name, header.value(field));
      }
    }
    return new Result(removed.isEmpty() ? message : header.edit(names, ""), removed);
  }
}
