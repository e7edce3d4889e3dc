package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.extension.Function;
import io.pebbletemplates.pebble.template.EvaluationContext;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.util.AbstractList;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;

/**
 * {@code range(start, end, increment)} and {@code start..end}, as in Pebble (both ends included,
 * numbers or single characters), but lazy: Pebble builds the whole list first, so {@code range(0,
 * 10000000000)} filled the heap before any loop began. A range longer than max_loop_iterations is
 * refused at once, as no loop could go through it.
 */
final class BoundedRange implements Function {
  @Override
  public List<String> getArgumentNames() {
    return List.of("start", "end", "increment");
  }

  @Override
  public Object execute(
      Map<String, Object> args, PebbleTemplate self, EvaluationContext context, int lineNumber) {
    Object start = args.get("start");
    Object end = args.get("end");
    Object increment = args.get("increment");
    long step;
    if (increment == null) {
      step = 1;
    } else if (increment instanceof Number number) {
      step = number.longValue();
    } else {
      throw new PebbleException(
          null, "the increment of range must be a number", lineNumber, self.getName());
    }
    if (step == 0) {
      throw new PebbleException(
          null, "the increment of range must not be 0", lineNumber, self.getName());
    }
    if (start instanceof Number from && end instanceof Number to) {
      return new Range(from.longValue(), size(from.longValue(), to.longValue(), step), step, false);
    }
    if (start instanceof String from
        && end instanceof String to
        && from.length() == 1
        && to.length() == 1) {
      return new Range(from.charAt(0), size(from.charAt(0), to.charAt(0), step), step, true);
    }
    throw new PebbleException(
        null, "range needs two numbers or two single characters", lineNumber, self.getName());
  }

  /** How many values lie from start to end (both included) in steps of step. */
  private static int size(long start, long end, long step) {
    RenderBudget budget = RenderBudget.current();
    if (step > 0 ? end < start : end > start) {
      return 0;
    }
    long steps;
    try {
      steps = Math.subtractExact(end, start) / step;
    } catch (ArithmeticException e) {
      throw tooLong(budget);
    }
    if (steps >= budget.maxIterations() || steps >= Integer.MAX_VALUE - 8) {
      throw tooLong(budget);
    }
    long size = steps + 1;
    return (int) size;
  }

  private static TemplateLimitException tooLong(RenderBudget budget) {
    return new TemplateLimitException(
        "a range of more than " + budget.maxIterations() + " values (max_loop_iterations)");
  }

  /** The values, computed when asked for. */
  private static final class Range extends AbstractList<Object> implements RandomAccess {
    private final long start;
    private final int size;
    private final long step;
    private final boolean characters;

    Range(long start, int size, long step, boolean characters) {
      this.start = start;
      this.size = size;
      this.step = step;
      this.characters = characters;
    }

    @Override
    public Object get(int index) {
      if (index < 0 || index >= size) {
        throw new IndexOutOfBoundsException(index);
      }
      long value = start + index * step;
      return characters ? (Object) (char) value : (Object) value;
    }

    @Override
    public int size() {
      return size;
    }
  }
}
