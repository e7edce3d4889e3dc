package org.postilion.http.inject.pebble;

import io.pebbletemplates.pebble.attributes.AttributeResolver;
import io.pebbletemplates.pebble.attributes.ResolvedAttribute;
import io.pebbletemplates.pebble.error.AttributeNotFoundException;
import io.pebbletemplates.pebble.node.ArgumentsNode;
import io.pebbletemplates.pebble.node.ForNode;
import io.pebbletemplates.pebble.template.EvaluationContextImpl;
import io.pebbletemplates.pebble.template.GlobalContext;
import java.lang.reflect.Array;
import java.util.List;
import java.util.Map;

/**
 * The only attributes templates may read: a map's values by key, a list's or array's items by
 * index, a map entry's {@code key} and {@code value}, and the {@code loop} variables. Pebble's own
 * resolver calls any public method or reads any public field by reflection, which let a template
 * change the JVM's default locale or read system properties; method calls are refused here and
 * nothing else is looked up.
 */
final class SandboxAttributes implements AttributeResolver {
  private static final int NAME_IN_MESSAGES = 40;

  @Override
  public ResolvedAttribute resolve(
      Object instance,
      Object attributeNameValue,
      Object[] argumentValues,
      ArgumentsNode args,
      EvaluationContextImpl context,
      String filename,
      int lineNumber) {
    String name = String.valueOf(attributeNameValue);
    if (argumentValues != null) {
      throw new TemplateLimitException(
          "templates may not call methods ("
              + shorten(name)
              + "(...) on a "
              + kind(instance)
              + ")");
    }
    if (instance instanceof GlobalContext || instance == null) {
      throw notFound(name, "the value has no attributes", filename, lineNumber);
    }
    if (instance instanceof Map<?, ?> map) {
      return fromMap(map, attributeNameValue, name, filename, lineNumber);
    }
    if (instance instanceof List<?> list) {
      int index = index(name);
      if (index < 0 || index >= list.size()) {
        throw notFound(name, "no item " + shorten(name) + " in the list", filename, lineNumber);
      }
      return new ResolvedAttribute(list.get(index));
    }
    if (instance.getClass().isArray()) {
      int index = index(name);
      if (index < 0 || index >= Array.getLength(instance)) {
        throw notFound(name, "no item " + shorten(name) + " in the list", filename, lineNumber);
      }
      return new ResolvedAttribute(Array.get(instance, index));
    }
    if (instance instanceof Map.Entry<?, ?> entry) {
      switch (name) {
        case "key":
          return new ResolvedAttribute(entry.getKey());
        case "value":
          return new ResolvedAttribute(entry.getValue());
        default:
          throw notFound(name, "an entry has only key and value", filename, lineNumber);
      }
    }
    if (instance instanceof ForNode.LoopVariables loop) {
      return new ResolvedAttribute(
          switch (name) {
            case "index" -> loop.getIndex();
            case "first" -> loop.isFirst();
            case "last" -> loop.isLast();
            case "length" -> loop.getLength();
            case "revindex" -> loop.getRevindex();
            default ->
                throw notFound(
                    name,
                    "loop has only index, first, last, length and revindex",
                    filename,
                    lineNumber);
          });
    }
    throw notFound(
        name,
        "a " + kind(instance) + " has no attributes: only maps, lists and loop have them",
        filename,
        lineNumber);
  }

  private static ResolvedAttribute fromMap(
      Map<?, ?> map, Object key, String name, String filename, int lineNumber) {
    if (map.containsKey(key)) {
      return new ResolvedAttribute(map.get(key));
    }
    // JSON objects have text keys: {{ prices[2024] }} finds "2024".
    if (key instanceof Number && map.containsKey(name)) {
      return new ResolvedAttribute(map.get(name));
    }
    throw notFound(name, "no key '" + shorten(name) + "' in the map", filename, lineNumber);
  }

  private static int index(String name) {
    try {
      return Integer.parseInt(name);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static AttributeNotFoundException notFound(
      String name, String message, String filename, int lineNumber) {
    return new AttributeNotFoundException(null, message, name, lineNumber, filename);
  }

  private static String kind(Object instance) {
    if (instance instanceof CharSequence) {
      return "string";
    }
    if (instance instanceof Number) {
      return "number";
    }
    if (instance instanceof Boolean) {
      return "boolean";
    }
    return instance == null ? "null" : instance.getClass().getSimpleName();
  }

  private static String shorten(String name) {
    return name.length() <= NAME_IN_MESSAGES ? name : name.substring(0, NAME_IN_MESSAGES) + "...";
  }
}
