package org.postilion.http.inject;

import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.error.RootAttributeNotFoundException;
import io.pebbletemplates.pebble.loader.StringLoader;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.io.IOException;
import java.io.StringWriter;
import java.util.Map;
import org.postilion.http.web.RequestException;

/**
 * Jinja-style templates ({@code {{ name }}}, {@code {% if %}}, {@code {% for %}}, filters) on
 * Pebble. A template is compiled once per request and rendered once per recipient. Variables that
 * are not defined are an error, never an empty string, so a typo cannot go out to a million people.
 */
final class Templates {
  private final PebbleEngine plain;
  private final PebbleEngine html;

  /**
   * @param maxRenderedChars a rendered template longer than this is refused, so a loop cannot
   *     exhaust the heap
   */
  Templates(int maxRenderedChars) {
    plain = engine(false, maxRenderedChars);
    html = engine(true, maxRenderedChars);
  }

  private static PebbleEngine engine(boolean escapeHtml, int maxRenderedChars) {
    return new PebbleEngine.Builder()
        .loader(new StringLoader())
        // Templates come with each request: caching them by their text would only grow the heap.
        .cacheActive(false)
        .strictVariables(true)
        .newLineTrimming(false)
        .autoEscaping(escapeHtml)
        .maxRenderedSize(maxRenderedChars)
        .build();
  }

  /**
   * Compiles {@code source}.
   *
   * @param field where the template came from, for error messages
   * @param escapeHtml whether substituted values are HTML-escaped (the {@code raw} filter turns it
   *     off for one value)
   */
  Template compile(String field, String source, boolean escapeHtml) throws RequestException {
    if (source == null) {
      return null;
    }
    if (!source.contains("{{") && !source.contains("{%") && !source.contains("{#")) {
      return variables -> source;
    }
    try {
      PebbleTemplate template = (escapeHtml ? html : plain).getTemplate(source);
      return variables -> render(field, template, variables);
    } catch (PebbleException e) {
      throw RequestException.badField(field, "template does not parse: " + describe(e));
    }
  }

  private static String render(String field, PebbleTemplate template, Map<String, Object> variables)
      throws RequestException {
    StringWriter out = new StringWriter();
    try {
      template.evaluate(out, variables);
    } catch (RootAttributeNotFoundException e) {
      throw new RequestException(
          422, field, "unknown template variable '" + e.getAttributeName() + "'");
    } catch (PebbleException e) {
      throw new RequestException(422, field, "template cannot be rendered: " + describe(e));
    } catch (IOException e) {
      throw new IllegalStateException("a StringWriter does not fail", e);
    }
    return out.toString();
  }

  private static String describe(PebbleException e) {
    Integer line = e.getLineNumber();
    return line == null ? e.getPebbleMessage() : e.getPebbleMessage() + " (line " + line + ")";
  }

  /** A compiled template. */
  @FunctionalInterface
  interface Template {
    String render(Map<String, Object> variables) throws RequestException;
  }
}
