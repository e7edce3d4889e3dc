package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.extension.Filter;
import io.pebbletemplates.pebble.extension.Function;
import io.pebbletemplates.pebble.extension.escaper.EscapeFilter;
import io.pebbletemplates.pebble.template.EvaluationContext;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pebble's filters and functions under the {@link RenderBudget}: each checks the time, and neither
 * its input nor its result may be longer than max_rendered_size, so no chain of filters can grow a
 * value without bound. The filters whose result can be many times their input (join, replace) are
 * {@link TextFilters} that stop before building too much; split's regular expression is
 * interruptible. The i18n function (it loads resource bundles by name) is left out.
 */
final class BoundedFilters {
  /** These sort or reverse the list they are given: they get a copy (see {@link #copy}). */
  private static final Set<String> IN_PLACE = Set.of("sort", "rsort", "reverse");

  private BoundedFilters() {}

  static Map<String, Filter> filters(Map<String, Filter> filters) {
    if (filters == null) {
      return null;
    }
    Map<String, Filter> bounded = new HashMap<>();
    filters.forEach((name, filter) -> bounded.put(name, filter(name, filter)));
    return bounded;
  }

  private static Filter filter(String name, Filter filter) {
    return switch (name) {
        // Pebble recognises default and escape by their classes; default only passes a value on.
      case "default" -> filter;
      case "escape" -> new BoundedEscape();
      case "join" -> new Checked(name, new TextFilters.Join());
      case "replace" -> new Checked(name, new TextFilters.Replace());
      case "split" -> new Checked(name, new TextFilters.Split());
      default -> new Checked(name, filter);
    };
  }

  static Map<String, Function> functions(Map<String, Function> functions) {
    if (functions == null) {
      return null;
    }
    Map<String, Function> bounded = new HashMap<>();
    functions.forEach(
        (name, function) -> {
          switch (name) {
            case "i18n" -> {}
            case "range" -> bounded.put(name, new BoundedRange());
            default -> bounded.put(name, new CheckedFunction(name, function));
          }
        });
    return bounded;
  }

  /**
   * Substitutions are shared by all recipients of a request: a filter that sorts in place would
   * change them for the next recipient.
   */
  private static Object copy(Object input) {
    if (input instanceof List<?> list) {
      return new ArrayList<>(list);
    }
    if (input instanceof Object[] array) {
      return array.clone();
    }
    return input;
  }

  private record Checked(String name, Filter filter) implements Filter {
    @Override
    public List<String> getArgumentNames() {
      return filter.getArgumentNames();
    }

    @Override
    public Object apply(
        Object input,
        Map<String, Object> args,
        PebbleTemplate self,
        EvaluationContext context,
        int lineNumber) {
      RenderBudget budget = RenderBudget.current();
      budget.check();
      budget.checkSize(input, "the input of '" + name + "'");
      Object result =
          filter.apply(
              IN_PLACE.contains(name) ? copy(input) : input, args, self, context, lineNumber);
      budget.checkSize(result, "the result of '" + name + "'");
      return result;
    }
  }

  private record CheckedFunction(String name, Function function) implements Function {
    @Override
    public List<String> getArgumentNames() {
      return function.getArgumentNames();
    }

    @Override
    public Object execute(
        Map<String, Object> args, PebbleTemplate self, EvaluationContext context, int lineNumber) {
      RenderBudget budget = RenderBudget.current();
      budget.check();
      Object result = function.execute(args, self, context, lineNumber);
      budget.checkSize(result, "the result of '" + name + "'");
      return result;
    }
  }

  /** An EscapeFilter still, which Pebble needs to see: it escapes what is not escaped yet. */
  private static final class BoundedEscape extends EscapeFilter {
    @Override
    public Object apply(
        Object input,
        Map<String, Object> args,
        PebbleTemplate self,
        EvaluationContext context,
        int lineNumber) {
      RenderBudget budget = RenderBudget.current();
      budget.checkSize(input, "the input of 'escape'");
      Object result = super.apply(input, args, self, context, lineNumber);
      budget.checkSize(result, "the result of 'escape'");
      return result;
    }
  }
}
