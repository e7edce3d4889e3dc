package org.postilion.http.inject;

import io.pebbletemplates.pebble.PebbleEngine;
import io.pebbletemplates.pebble.error.PebbleException;
import io.pebbletemplates.pebble.error.RootAttributeNotFoundException;
import io.pebbletemplates.pebble.template.PebbleTemplate;
import java.io.IOException;
import java.io.StringWriter;
import java.util.Map;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.inject.pebble.Sandbox;
import org.postilion.http.inject.pebble.TemplateLimitException;
import org.postilion.http.web.RequestException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jinja-style templates ({@code {{ name }}}, {@code {% if %}}, {@code {% for %}}, filters) on
 * Pebble, in a {@link Sandbox}. A template is compiled once per request and rendered once per
 * recipient under the request's {@link RenderBudget}. Variables that are not defined are an error,
 * never an empty string, so a typo cannot go out to a million people. Errors name the field and say
 * what went wrong in the template, never what Java threw.
 */
final class Templates {
  private static final Logger LOG = LoggerFactory.getLogger(Templates.class);

  /** Pebble's messages may quote a value from the template; a reply carries this much of it. */
  private static final int MESSAGE_CHARS = 300;

  private final PebbleEngine plain;
  private final PebbleEngine html;

  /**
   * @param maxRenderedChars a rendered template longer than this is refused, so a loop cannot
   *     exhaust the heap
   */
  Templates(int maxRenderedChars) {
    plain = Sandbox.engine(false, maxRenderedChars);
    html = Sandbox.engine(true, maxRenderedChars);
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
      return (variables, budget) -> source;
    }
    PebbleTemplate template;
    try {
      template = Sandbox.compile(escapeHtml ? html : plain, source);
    } catch (StackOverflowError e) {
      throw RequestException.badField(field, "template does not parse: it nests too deeply");
    } catch (RuntimeException e) {
      throw RequestException.badField(
          field, "template does not parse: " + describe(e, "a part of it cannot be read"));
    }
    return (variables, budget) -> render(field, template, variables, budget);
  }

  private static String render(
      String field, PebbleTemplate template, Map<String, Object> variables, RenderBudget budget)
      throws RequestException {
    StringWriter out = new StringWriter();
    try (RenderBudget.Rendering rendering = budget.start()) {
      template.evaluate(out, variables);
    } catch (StackOverflowError e) {
      throw new RequestException(
          422, field, "template cannot be rendered: macros or expressions nest too deeply");
    } catch (RuntimeException e) {
      throw refusal(field, e);
    } catch (IOException e) {
      throw new IllegalStateException("a StringWriter does not fail", e);
    }
    return out.toString();
  }

  private static RequestException refusal(String field, RuntimeException e) {
    TemplateLimitException limit = TemplateLimitException.in(e);
    if (limit != null) {
      return new RequestException(
          limit.isCancelled() ? 503 : 422, field, describe(e, "the request's limits"));
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RootAttributeNotFoundException missing) {
        return new RequestException(
            422, field, "unknown template variable '" + shorten(missing.getAttributeName()) + "'");
      }
    }
    return new RequestException(
        422,
        field,
        "template cannot be rendered: "
            + describe(e, "an expression cannot work with the values it was given"));
  }

  /**
   * The message of the innermost PebbleException (Pebble wraps causes in vaguer ones: "Could not
   * perform addition") and the nearest line number. Anything else thrown inside Pebble (a filter
   * given a number instead of text) is logged, and the client gets {@code fallback}.
   */
  private static String describe(RuntimeException e, String fallback) {
    PebbleException innermost = null;
    Integer line = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PebbleException pebble) {
        innermost = pebble;
        line = pebble.getLineNumber() != null ? pebble.getLineNumber() : line;
      }
    }
    String message;
    if (innermost != null && innermost.getPebbleMessage() != null) {
      message = shorten(innermost.getPebbleMessage());
      // Pebble's LimitedSizeWriter, which also bounds what macros write.
      if (message.startsWith("Tried to write more than")) {
        message = "the rendering is longer than max_rendered_size";
      }
    } else {
      LOG.debug("Template failed inside Pebble", e);
      message = fallback;
    }
    return line == null ? message : message + " (line " + line + ")";
  }

  private static String shorten(String message) {
    return message.length() <= MESSAGE_CHARS
        ? message
        : message.substring(0, MESSAGE_CHARS) + "...";
  }

  /** A compiled template. */
  @FunctionalInterface
  interface Template {
    String render(Map<String, Object> variables, RenderBudget budget) throws RequestException;
  }
}
