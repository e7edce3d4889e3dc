package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.extension.AbstractNodeVisitor;
import io.pebbletemplates.pebble.extension.NodeVisitor;
import io.pebbletemplates.pebble.extension.NodeVisitorFactory;
import io.pebbletemplates.pebble.node.Node;
import io.pebbletemplates.pebble.node.PrintNode;
import io.pebbletemplates.pebble.node.TestInvocationExpression;
import io.pebbletemplates.pebble.node.expression.ArrayExpression;
import io.pebbletemplates.pebble.node.expression.BinaryExpression;
import io.pebbletemplates.pebble.node.expression.Expression;
import io.pebbletemplates.pebble.node.expression.FilterInvocationExpression;
import io.pebbletemplates.pebble.node.expression.FunctionOrMacroInvocationExpression;
import io.pebbletemplates.pebble.node.expression.GetAttributeExpression;
import io.pebbletemplates.pebble.node.expression.LiteralStringExpression;
import io.pebbletemplates.pebble.node.expression.MapExpression;
import io.pebbletemplates.pebble.node.expression.RenderableNodeExpression;
import io.pebbletemplates.pebble.node.expression.TernaryExpression;
import io.pebbletemplates.pebble.node.expression.UnaryExpression;
import io.pebbletemplates.pebble.template.EvaluationContextImpl;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import io.pebbletemplates.pebble.template.PebbleTemplateImpl;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Bounds what a template writes out or spells out itself, as it is compiled: each printed value,
 * and each item of a list or map written in the template ({@code [a, b, c]}). Values a template
 * builds are bounded where they are built, but a literal list holds whatever it names, so {@code
 * [a, a, a, a]} would be four times as long as {@code a}, and Pebble turns such a list into text
 * when it is used as a key ({@code map[[a, a, a, a]]}) without asking anyone. Each item of a
 * literal with n items may therefore be at most 1/n of twice max_rendered_size long.
 */
final class ValueBounds implements NodeVisitorFactory {
  @Override
  public NodeVisitor createVisitor(PebbleTemplate template) {
    return new Visitor((PebbleTemplateImpl) template);
  }

  private static final class Visitor extends AbstractNodeVisitor {
    Visitor(PebbleTemplateImpl template) {
      super(template);
    }

    @Override
    public void visit(PrintNode node) {
      super.visit(node);
      node.setExpression(new BoundedTags.Measured(node.getExpression(), "a printed value"));
    }

    /** Pebble's visitor stops at expressions; this goes on into them. */
    @Override
    public void visit(Node node) {
      if (node instanceof BinaryExpression<?> binary) {
        into(binary.getLeftExpression());
        into(binary.getRightExpression());
      } else if (node instanceof RenderableNodeExpression renderable) {
        into(renderable.getNode());
      } else if (node instanceof UnaryExpression unary) {
        into(unary.getChildExpression());
      } else if (node instanceof TernaryExpression ternary) {
        into(ternary.getExpression1());
        into(ternary.getExpression2());
        into(ternary.getExpression3());
      } else if (node instanceof GetAttributeExpression attribute) {
        into(attribute.getNode());
        into(attribute.getAttributeNameExpression());
        into(attribute.getArgumentsNode());
      } else if (node instanceof FunctionOrMacroInvocationExpression call) {
        into(call.getArguments());
      } else if (node instanceof FilterInvocationExpression filter) {
        into(filter.getArgs());
      } else if (node instanceof TestInvocationExpression test) {
        into(test.getArgs());
      } else if (node instanceof ArrayExpression array) {
        bound(array.getValues());
      } else if (node instanceof MapExpression map) {
        bound(map.getEntries());
      }
    }

    private void into(Node node) {
      if (node != null) {
        node.accept(this);
      }
    }

    private void bound(List<Expression<?>> items) {
      for (int i = 0; i < items.size(); i++) {
        into(items.get(i));
        items.set(i, share(items.get(i), items.size()));
      }
    }

    private void bound(Map<Expression<?>, Expression<?>> entries) {
      List<Map.Entry<Expression<?>, Expression<?>>> all = new ArrayList<>(entries.entrySet());
      int items = all.size() * 2;
      entries.clear();
      for (Map.Entry<Expression<?>, Expression<?>> entry : all) {
        into(entry.getKey());
        into(entry.getValue());
        entries.put(share(entry.getKey(), items), share(entry.getValue(), items));
      }
    }

    private static Expression<?> share(Expression<?> item, int items) {
      return item == null || item instanceof LiteralStringExpression
          ? item
          : new Share(item, items);
    }
  }

  /** One of n items of a literal list or map. */
  private record Share(Expression<?> item, int items) implements Expression<Object> {
    @Override
    public Object evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object value = item.evaluate(self, context);
      RenderBudget budget = RenderBudget.current();
      long limit = Math.max(2L * budget.maxChars() / items, 64);
      if (ValueSize.exceeds(value, limit, budget)) {
        throw new TemplateLimitException(
            "an item of a list or map with "
                + items
                + " items is longer than "
                + limit
                + " characters (twice max_rendered_size, shared)");
      }
      return value;
    }

    @Override
    public void accept(NodeVisitor visitor) {
      item.accept(visitor);
    }

    @Override
    public int getLineNumber() {
      return item.getLineNumber();
    }
  }
}
