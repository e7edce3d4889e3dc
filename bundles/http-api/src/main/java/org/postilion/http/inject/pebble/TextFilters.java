package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.extension.Filter;
import io.pebbletemplates.pebble.template.EvaluationContext;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Pebble's join, replace and split as they behave in Pebble, but bounded: join and replace work out
 * how long their result will be before building it (a replace of "a" by a long text, or a join of a
 * long list with a long separator, would otherwise fill the heap before any check on the result),
 * and split's regular expression reads its input through the budget, so that one that backtracks
 * for ever stops at render_timeout.
 */
final class TextFilters {
  private TextFilters() {}

  /** {@code items | join(", ")}. */
  static final class Join implements Filter {
    @Override
    public List<String> getArgumentNames() {
      return List.of("separator");
    }

    @Override
    public Object apply(
        Object input,
        Map<String, Object> args,
        PebbleTemplate self,
        EvaluationContext context,
        int lineNumber) {
      if (input == null) {
        return null;
      }
      RenderBudget budget = RenderBudget.current();
      Object separator = args.get("separator");
      String glue = separator == null ? "" : separator.toString();
      StringBuilder joined = new StringBuilder();
      boolean first = true;
      for (Object item : items(input, self, lineNumber)) {
        long length =
            joined.length()
                + (first ? 0 : glue.length())
                + ValueSize.measure(item, budget.maxChars(), budget);
        if (length > budget.maxChars()) {
          throw budget.tooLong("the result of 'join'");
        }
        if (!first) {
          joined.append(glue);
        }
        joined.append(item);
        first = false;
      }
      return joined.toString();
    }

    private static Collection<?> items(Object input, PebbleTemplate self, int lineNumber) {
      if (input instanceof Collection<?> collection) {
        return collection;
      }
      if (input.getClass().isArray()) {
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < Array.getLength(input); i++) {
          items.add(Array.get(input, i));
        }
        return items;
      }
      throw new PebbleException(null, "join needs a list", lineNumber, self.getName());
    }
  }

  /** {@code text | replace({"search": "replacement"})}, the pairs one after the other. */
  static final class Replace implements Filter {
    private static final String PAIRS = "replace_pairs";

    @Override
    public List<String> getArgumentNames() {
      return List.of(PAIRS);
    }

    @Override
    public Object apply(
        Object input,
        Map<String, Object> args,
        PebbleTemplate self,
        EvaluationContext context,
        int lineNumber) {
      if (input == null) {
        return null;
      }
      if (!(args.get(PAIRS) instanceof Map<?, ?> pairs)) {
        throw new PebbleException(
            null, "replace needs a map of search: replacement", lineNumber, self.getName());
      }
      RenderBudget budget = RenderBudget.current();
      String text = input.toString();
      for (Map.Entry<?, ?> pair : pairs.entrySet()) {
        String search = String.valueOf(pair.getKey());
        String replacement = String.valueOf(pair.getValue());
        long found = search.isEmpty() ? text.length() + 1L : occurrences(text, search, budget);
        long length = text.length() + found * (replacement.length() - search.length());
        if (length > budget.maxChars()) {
          throw budget.tooLong("the result of 'replace'");
        }
        text = text.replace(search, replacement);
      }
      return text;
    }

    private static long occurrences(String text, String search, RenderBudget budget) {
      long found = 0;
      for (int at = text.indexOf(search);
          at >= 0;
          at = text.indexOf(search, at + search.length())) {
        found++;
        budget.tick();
      }
      return found;
    }
  }

  /** {@code text | split(",")}: the delimiter is a regular expression, as in Java. */
  static final class Split implements Filter {
    @Override
    public List<String> getArgumentNames() {
      return List.of("delimiter", "limit");
    }

    @Override
    public Object apply(
        Object input,
        Map<String, Object> args,
        PebbleTemplate self,
        EvaluationContext context,
        int lineNumber) {
      if (input == null) {
        return null;
      }
      if (!(args.get("delimiter") instanceof String delimiter)) {
        throw new PebbleException(
            null, "split needs a delimiter, as text", lineNumber, self.getName());
      }
      Pattern pattern;
      try {
        pattern = Pattern.compile(delimiter);
      } catch (PatternSyntaxException e) {
        throw new PebbleException(
            null,
            "the delimiter of split is not a regular expression: " + e.getDescription(),
            lineNumber,
            self.getName());
      }
      int limit = args.get("limit") instanceof Number n ? n.intValue() : 0;
      return pattern.split(new BudgetedText(input.toString(), RenderBudget.current()), limit);
    }
  }

  /** Text that checks the budget as a regular expression reads it. */
  private record BudgetedText(String text, RenderBudget budget) implements CharSequence {
    @Override
    public int length() {
      return text.length();
    }

    @Override
    public char charAt(int index) {
      budget.tick();
      return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.substring(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
