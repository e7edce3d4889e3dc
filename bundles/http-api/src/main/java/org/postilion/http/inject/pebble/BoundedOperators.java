package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.extension.escaper.SafeString;
import io.pebbletemplates.pebble.node.expression.AddExpression;
import io.pebbletemplates.pebble.node.expression.BinaryExpression;
import io.pebbletemplates.pebble.node.expression.ConcatenateExpression;
import io.pebbletemplates.pebble.node.expression.ContainsExpression;
import io.pebbletemplates.pebble.node.expression.SubtractExpression;
import io.pebbletemplates.pebble.operator.BinaryOperator;
import io.pebbletemplates.pebble.operator.BinaryOperatorImpl;
import io.pebbletemplates.pebble.template.EvaluationContextImpl;
import io.pebbletemplates.pebble.template.PebbleTemplateImpl;
import io.pebbletemplates.pebble.utils.OperatorUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The operators that build values: {@code ~} and {@code +} on text refuse a result longer than
 * max_rendered_size before building it ({@code a ~ a} twenty-seven times over filled the heap), and
 * {@code +} and {@code -} on a list give a new list: Pebble's change the list itself, which may be
 * a substitution that the next recipient's rendering then sees changed. The others make numbers or
 * booleans, or are filters, tests and ranges, which are bounded where they run; only {@code
 * contains} between two lists is changed, to take linear time instead of quadratic.
 */
final class BoundedOperators {
  private BoundedOperators() {}

  static List<BinaryOperator> binary(List<BinaryOperator> operators) {
    if (operators == null) {
      return null;
    }
    List<BinaryOperator> bounded = new ArrayList<>();
    for (BinaryOperator operator : operators) {
      bounded.add(
          switch (operator.getSymbol()) {
            case "~" -> replaced(operator, Concatenation::new);
            case "+" -> replaced(operator, Addition::new);
            case "-" -> replaced(operator, Subtraction::new);
            case "contains" -> replaced(operator, Containment::new);
            default -> operator;
          });
    }
    return bounded;
  }

  private static BinaryOperator replaced(
      BinaryOperator operator, Supplier<? extends BinaryExpression<?>> expression) {
    return new BinaryOperatorImpl(
        operator.getSymbol(),
        operator.getPrecedence(),
        expression,
        operator.getType(),
        operator.getAssociativity());
  }

  /** The length of {@code left} and {@code right} written one after the other. */
  private static void checkJoinedLength(Object left, Object right, String operator) {
    RenderBudget budget = RenderBudget.current();
    long length =
        ValueSize.measure(left, budget.maxChars(), budget)
            + ValueSize.measure(right, budget.maxChars(), budget);
    if (length > budget.maxChars()) {
      throw budget.tooLong("the result of '" + operator + "'");
    }
  }

  private static boolean isText(Object value) {
    return value instanceof String || value instanceof SafeString;
  }

  /** {@code a ~ b}; still a ConcatenateExpression, which the HTML escaper looks for. */
  static final class Concatenation extends ConcatenateExpression {
    @Override
    public String evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object left = getLeftExpression().evaluate(self, context);
      Object right = getRightExpression().evaluate(self, context);
      checkJoinedLength(left, right, "~");
      return (left == null ? "" : left.toString()) + (right == null ? "" : right.toString());
    }
  }

  /** {@code a + b}: numbers, text, or a list and more items. */
  static final class Addition extends AddExpression {
    @Override
    public Object evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object left = getLeftExpression().evaluate(self, context);
      Object right = getRightExpression().evaluate(self, context);
      if (isText(left) || isText(right)) {
        checkJoinedLength(left, right, "+");
        return String.valueOf(left) + right;
      }
      if (left instanceof List<?> list) {
        List<Object> sum = new ArrayList<>(list);
        if (right instanceof Collection<?> more) {
          sum.addAll(more);
        } else {
          sum.add(right);
        }
        RenderBudget.current().checkSize(sum, "the result of '+'");
        return sum;
      }
      try {
        return OperatorUtils.add(left, right);
      } catch (RuntimeException e) {
        throw new PebbleException(e, "Could not perform addition", getLineNumber(), self.getName());
      }
    }
  }

  /** {@code a - b}: numbers, or a list without some items. */
  static final class Subtraction extends SubtractExpression {
    @Override
    public Object evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object left = getLeftExpression().evaluate(self, context);
      Object right = getRightExpression().evaluate(self, context);
      if (left instanceof List<?> list) {
        List<Object> difference = new ArrayList<>(list);
        if (right instanceof Collection<?> fewer) {
          // Through a set: a list's removeAll of a list takes the product of their lengths.
          difference.removeAll(new HashSet<>(fewer));
        } else {
          difference.remove(right);
        }
        return difference;
      }
      try {
        return OperatorUtils.subtract(left, right);
      } catch (RuntimeException e) {
        throw new PebbleException(
            e, "Could not perform subtraction", getLineNumber(), self.getName());
      }
    }
  }

  /**
   * {@code a contains b}, as in Pebble but a list in a list through a set (Pebble's: quadratic).
   */
  static final class Containment extends ContainsExpression {
    @Override
    public Boolean evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object left = getLeftExpression().evaluate(self, context);
      if (left == null) {
        return false;
      }
      Object right = getRightExpression().evaluate(self, context);
      if (left instanceof Object[] array) {
        left = Arrays.asList(array);
      }
      if (left instanceof Collection<?> all) {
        return right instanceof Collection<?> some
            ? new HashSet<>(all).containsAll(some)
            : all.contains(right);
      }
      if (left instanceof Map<?, ?> map) {
        return map.containsKey(right);
      }
      if (left instanceof String text) {
        RenderBudget.current().checkSize(right, "the right side of 'contains'");
        return text.contains(String.valueOf(right));
      }
      throw new PebbleException(
          null, "contains needs a list, a map or text", getLineNumber(), self.getName());
    }
  }
}
