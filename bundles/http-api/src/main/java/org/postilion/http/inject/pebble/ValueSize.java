package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.extension.escaper.SafeString;
import io.pebbletemplates.pebble.template.GlobalContext;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;
import java.util.Deque;
import java.util.Iterator;
import java.util.Map;

/**
 * How long a template value is as text, about as {@code toString()} would write it, without writing
 * it. Lists and maps are walked without recursion and only until the limit is passed, so a list
 * that holds itself many times over (a list of lists built by doubling) costs at most the limit to
 * measure, however large it would be as text.
 */
final class ValueSize {
  /** Deeper lists and maps are refused: printing or comparing them would overflow the stack. */
  static final int MAX_DEPTH = 100;

  /** Anything else (a locale, a loop's variables): short as text. */
  private static final int OTHER = 100;

  private ValueSize() {}

  /** Whether {@code value} as text is longer than {@code limit}. */
  static boolean exceeds(Object value, long limit, RenderBudget budget) {
    return measure(value, limit, budget) > limit;
  }

  /** The length of {@code value} as text, or some number past {@code limit}. */
  static long measure(Object value, long limit, RenderBudget budget) {
    Iterator<?> children = children(value);
    if (children == null) {
      return scalar(value);
    }
    Deque<Iterator<?>> open = new ArrayDeque<>();
    open.push(children);
    long total = 2;
    while (!open.isEmpty() && total <= limit) {
      Iterator<?> current = open.peek();
      if (!current.hasNext()) {
        open.pop();
        continue;
      }
      budget.tick();
      Object child = current.next();
      Iterator<?> grandChildren = children(child);
      if (grandChildren == null) {
        total += scalar(child) + 2;
      } else {
        if (open.size() >= MAX_DEPTH) {
          throw new TemplateLimitException("lists and maps nest deeper than " + MAX_DEPTH);
        }
        total += 4;
        open.push(grandChildren);
      }
    }
    return total;
  }

  /** The elements of a list, map (its entries), map entry (key and value) or array, or null. */
  private static Iterator<?> children(Object value) {
    if (value instanceof GlobalContext) {
      return null;
    }
    if (value instanceof Map<?, ?> map) {
      return map.entrySet().iterator();
    }
    if (value instanceof Map.Entry<?, ?> entry) {
      return Arrays.asList(entry.getKey(), entry.getValue()).iterator();
    }
    if (value instanceof Collection<?> collection) {
      return collection.iterator();
    }
    if (value instanceof Object[] array) {
      return Arrays.asList(array).iterator();
    }
    return null;
  }

  private static long scalar(Object value) {
    if (value == null) {
      return 4;
    }
    if (value instanceof CharSequence text) {
      return text.length();
    }
    if (value instanceof SafeString safe) {
      return safe.toString().length();
    }
    if (value instanceof BigInteger big) {
      return big.bitLength() / 3 + 2;
    }
    if (value instanceof BigDecimal big) {
      return big.precision() + 16L;
    }
    if (value instanceof Number || value instanceof Boolean || value instanceof Character) {
      return 24;
    }
    if (value.getClass().isArray()) {
      return Array.getLength(value) * 24L + 2;
    }
    return OTHER;
  }
}
