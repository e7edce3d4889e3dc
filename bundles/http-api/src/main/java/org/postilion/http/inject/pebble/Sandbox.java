package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.attributes.AttributeResolver;
import io.pebbletemplates.pebble.error.LoaderException;
import io.pebbletemplates.pebble.extension.AbstractExtension;
import io.pebbletemplates.pebble.extension.Extension;
import io.pebbletemplates.pebble.extension.ExtensionCustomizer;
import io.pebbletemplates.pebble.extension.Filter;
import io.pebbletemplates.pebble.extension.Function;
import io.pebbletemplates.pebble.extension.NodeVisitorFactory;
import io.pebbletemplates.pebble.loader.Loader;
import io.pebbletemplates.pebble.operator.BinaryOperator;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import io.pebbletemplates.pebble.tokenParser.TokenParser;
import java.io.Reader;
import java.util.List;
import java.util.Map;

/**
 * Pebble engines for templates that come with requests: what a template can reach is limited to
 * values, maps, lists, the filters and the tags of {@link BoundedTags}; no method calls, no other
 * templates, no files. Every loop, macro, filter, operator, assignment and print is checked against
 * the {@link RenderBudget} of the rendering, which must be started around {@code evaluate}.
 */
public final class Sandbox {
  private Sandbox() {}

  /**
   * @param escapeHtml whether printed values are HTML-escaped
   * @param maxRenderedChars the longest output of one rendering (values are bounded by the budget)
   */
  public static PebbleEngine engine(boolean escapeHtml, int maxRenderedChars) {
    return new PebbleEngine.Builder()
        .loader(new NoTemplates())
        // Templates come with each request: caching them by their text would only grow the heap.
        .cacheActive(false)
        .strictVariables(true)
        .newLineTrimming(false)
        .autoEscaping(escapeHtml)
        .maxRenderedSize(maxRenderedChars)
        // SandboxAttributes calls no methods; this refuses them should anything else try.
        .methodAccessValidator((object, method) -> false)
        .registerExtensionCustomizer(Bounded::new)
        .extension(new Bounds())
        .build();
  }

  /** Compiles a template from its text; it cannot load any other. */
  public static PebbleTemplate compile(PebbleEngine engine, String source) {
    return engine.getLiteralTemplate(source);
  }

  /** Pebble's own extensions (core, escaper, i18n, attributes) with the bounded parts. */
  private static final class Bounded extends ExtensionCustomizer {
    Bounded(Extension extension) {
      super(extension);
    }

    @Override
    public Map<String, Filter> getFilters() {
      return BoundedFilters.filters(super.getFilters());
    }

    @Override
    public Map<String, Function> getFunctions() {
      return BoundedFilters.functions(super.getFunctions());
    }

    @Override
    public List<TokenParser> getTokenParsers() {
      return BoundedTags.tokenParsers(super.getTokenParsers());
    }

    @Override
    public List<BinaryOperator> getBinaryOperators() {
      return BoundedOperators.binary(super.getBinaryOperators());
    }

    @Override
    public List<AttributeResolver> getAttributeResolver() {
      List<AttributeResolver> resolvers = super.getAttributeResolver();
      return resolvers == null || resolvers.isEmpty()
          ? resolvers
          : List.of(new SandboxAttributes());
    }
  }

  /** Bounds printed values and the items of literal lists and maps, see {@link ValueBounds}. */
  private static final class Bounds extends AbstractExtension {
    @Override
    public List<NodeVisitorFactory> getNodeVisitors() {
      return List.of(new ValueBounds());
    }
  }

  /** The loader for include, import, extends and embed, which are not parsed anyway. */
  private static final class NoTemplates implements Loader<String> {
    @Override
    public Reader getReader(String name) {
      throw new LoaderException(null, "templates cannot load other templates");
    }

    @Override
    public void setCharset(String charset) {}

    @Override
    public void setPrefix(String prefix) {}

    @Override
    public void setSuffix(String suffix) {}

    @Override
    public String resolveRelativePath(String relativePath, String anchorPath) {
      return null;
    }

    @Override
    public String createCacheKey(String name) {
      return name;
    }

    @Override
    public boolean resourceExists(String name) {
      return false;
    }
  }
}
