package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.extension.NodeVisitor;
import io.pebbletemplates.pebble.lexer.Token;
import io.pebbletemplates.pebble.node.ArgumentsNode;
import io.pebbletemplates.pebble.node.BodyNode;
import io.pebbletemplates.pebble.node.ForNode;
import io.pebbletemplates.pebble.node.MacroNode;
import io.pebbletemplates.pebble.node.RenderableNode;
import io.pebbletemplates.pebble.node.SetNode;
import io.pebbletemplates.pebble.node.expression.Expression;
import io.pebbletemplates.pebble.parser.Parser;
import io.pebbletemplates.pebble.template.EvaluationContextImpl;
import io.pebbletemplates.pebble.template.Macro;
import io.pebbletemplates.pebble.template.PebbleTemplateImpl;
import io.pebbletemplates.pebble.tokenParser.ForTokenParser;
import io.pebbletemplates.pebble.tokenParser.MacroTokenParser;
import io.pebbletemplates.pebble.tokenParser.SetTokenParser;
import io.pebbletemplates.pebble.tokenParser.TokenParser;
import java.lang.reflect.Array;
import java.util.AbstractCollection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tags templates may use: {@code if}, {@code for}, {@code set}, {@code macro}, {@code filter}
 * and {@code autoescape} ({@code verbatim} is the lexer's). {@code for} counts its passes, {@code
 * macro} its calls and depth, and {@code set} refuses values longer than max_rendered_size, all
 * against the {@link RenderBudget}. The tags that load other templates (include, import, from,
 * extends, embed) are left out, with block that serves them, parallel (threads) and cache.
 */
final class BoundedTags {
  private static final Set<String> KEPT = Set.of("if", "filter", "autoescape");

  private BoundedTags() {}

  static List<TokenParser> tokenParsers(List<TokenParser> parsers) {
    if (parsers == null) {
      return null;
    }
    List<TokenParser> kept = new ArrayList<>();
    for (TokenParser parser : parsers) {
      switch (parser.getTag()) {
        case "for" -> kept.add(new For());
        case "set" -> kept.add(new Assignment());
        case "macro" -> kept.add(new MacroDefinition());
        default -> {
          if (KEPT.contains(parser.getTag())) {
            kept.add(parser);
          }
        }
      }
    }
    return kept;
  }

  /** {@code {% for x in items %}}: Pebble's loop over items that count each pass. */
  private static final class For implements TokenParser {
    private final ForTokenParser parser = new ForTokenParser();

    @Override
    public RenderableNode parse(Token token, Parser parser) {
      ForNode loop = (ForNode) this.parser.parse(token, parser);
      return new ForNode(
          loop.getLineNumber(),
          loop.getIterationVariable(),
          new Counted(loop.getIterable()),
          loop.getBody(),
          loop.getElseBody());
    }

    @Override
    public String getTag() {
      return parser.getTag();
    }
  }

  /** {@code {% set name = value %}}, refusing values longer than max_rendered_size. */
  private static final class Assignment implements TokenParser {
    private final SetTokenParser parser = new SetTokenParser();

    @Override
    public RenderableNode parse(Token token, Parser parser) {
      SetNode set = (SetNode) this.parser.parse(token, parser);
      return new SetNode(
          set.getLineNumber(),
          set.getName(),
          new Measured(set.getValue(), "the value of '" + set.getName() + "'"));
    }

    @Override
    public String getTag() {
      return parser.getTag();
    }
  }

  /** {@code {% macro name(args) %}}, whose calls count as loop passes and may nest so deep. */
  private static final class MacroDefinition implements TokenParser {
    private final MacroTokenParser parser = new MacroTokenParser();

    @Override
    public RenderableNode parse(Token token, Parser parser) {
      MacroNode macro = (MacroNode) this.parser.parse(token, parser);
      return new CountedMacroNode(macro.getName(), macro.getArgs(), macro.getBody());
    }

    @Override
    public String getTag() {
      return parser.getTag();
    }
  }

  private static final class CountedMacroNode extends MacroNode {
    CountedMacroNode(String name, ArgumentsNode args, BodyNode body) {
      super(name, args, body);
    }

    @Override
    public Macro getMacro() {
      Macro macro = super.getMacro();
      return new Macro() {
        @Override
        public List<String> getArgumentNames() {
          return macro.getArgumentNames();
        }

        @Override
        public String getName() {
          return macro.getName();
        }

        @Override
        public String call(
            PebbleTemplateImpl self, EvaluationContextImpl context, Map<String, Object> args) {
          RenderBudget budget = RenderBudget.current();
          budget.enterMacro();
          try {
            return macro.call(self, context, args);
          } finally {
            budget.exitMacro();
          }
        }
      };
    }
  }

  /**
   * The value of {@code expression}, refused when longer than max_rendered_size (for set, and for
   * what is printed).
   */
  record Measured(Expression<?> expression, String what) implements Expression<Object> {
    @Override
    public Object evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object value = expression.evaluate(self, context);
      RenderBudget.current().checkSize(value, what);
      return value;
    }

    @Override
    public void accept(NodeVisitor visitor) {
      expression.accept(visitor);
    }

    @Override
    public int getLineNumber() {
      return expression.getLineNumber();
    }
  }

  /** What a for loop goes through, as a collection whose iterator counts each pass. */
  private record Counted(Expression<?> iterable) implements Expression<Object> {
    @Override
    public Object evaluate(PebbleTemplateImpl self, EvaluationContextImpl context) {
      Object value = iterable.evaluate(self, context);
      if (value == null) {
        return null;
      }
      Collection<?> items = items(value, self);
      RenderBudget budget = RenderBudget.current();
      return new AbstractCollection<Object>() {
        @Override
        public Iterator<Object> iterator() {
          Iterator<?> inner = items.iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return inner.hasNext();
            }

            @Override
            public Object next() {
              budget.iteration();
              return inner.next();
            }
          };
        }

        @Override
        public int size() {
          return items.size();
        }
      };
    }

    /** A list, a map (its entries, as Pebble loops over them) or an array, as a collection. */
    private Collection<?> items(Object value, PebbleTemplateImpl self) {
      if (value instanceof Collection<?> collection) {
        return collection;
      }
      if (value instanceof Map<?, ?> map) {
        return map.entrySet();
      }
      if (value instanceof Object[] array) {
        return Arrays.asList(array);
      }
      if (value.getClass().isArray()) {
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < Array.getLength(value); i++) {
          items.add(Array.get(value, i));
        }
        return items;
      }
      throw new PebbleException(
          null, "for needs a list or a map", iterable.getLineNumber(), self.getName());
    }

    @Override
    public void accept(NodeVisitor visitor) {
      iterable.accept(visitor);
    }

    @Override
    public int getLineNumber() {
      return iterable.getLineNumber();
    }
  }
}
