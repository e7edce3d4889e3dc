package org.postilion.api.json;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Writes values as compact JSON: {@code null}, strings, numbers, booleans, enums (by name), {@link
 * Instant} and {@link Duration} (ISO-8601), maps, collections, arrays of objects and records. A
 * record is an object whose fields are its components in declaration order, named in snake_case
 * ({@code messageId} becomes {@code message_id}), without those marked {@link Omit}. Anything else
 * is written as its {@code toString()}.
 */
public final class Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /** A record component that is not part of the record's JSON (a function, a cache). */
  @Retention(RetentionPolicy.RUNTIME)
  @Target({ElementType.RECORD_COMPONENT, ElementType.METHOD})
  public @interface Omit {}

  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString();
  }

  public static StringBuilder write(Object value, StringBuilder out) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof CharSequence text) {
      quote(text.toString(), out);
    } else if (value instanceof Number || value instanceof Boolean) {
      out.append(value);
    } else if (value instanceof Enum<?> constant) {
      quote(constant.name(), out);
    } else if (value instanceof Instant || value instanceof Duration) {
      quote(value.toString(), out);
    } else if (value instanceof Optional<?> optional) {
      write(optional.orElse(null), out);
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        first = name(String.valueOf(entry.getKey()), first, out);
        write(entry.getValue(), out);
      }
      out.append('}');
    } else if (value instanceof Collection<?> list) {
      array(list.toArray(), out);
    } else if (value instanceof Object[] array) {
      array(array, out);
    } else if (value instanceof Record record) {
      record(record, out);
    } else {
      quote(value.toString(), out);
    }
    return out;
  }

  /** Appends {@code value} as a quoted JSON string, escaping what JSON requires. */
  public static StringBuilder quote(String value, StringBuilder out) {
    out.append('"');
    // Runs of characters that need no escape (nearly all of a record) are copied at once.
    int run = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        continue;
      }
      out.append(value, run, i);
      run = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    return out.append(value, run, value.length()).append('"');
  }

  /** {@code messageId} as {@code message_id}, as the HTTP API and the records name fields. */
  public static String snakeCase(String name) {
    StringBuilder out = new StringBuilder(name.length() + 4);
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c)) {
        if (i > 0) {
          out.append('_');
        }
        out.append(Character.toLowerCase(c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static void array(Object[] items, StringBuilder out) {
    out.append('[');
    for (int i = 0; i < items.length; i++) {
      if (i > 0) {
        out.append(',');
      }
      write(items[i], out);
    }
    out.append(']');
  }

  private static void record(Record record, StringBuilder out) {
    out.append('{');
    boolean first = true;
    for (RecordComponent component : record.getClass().getRecordComponents()) {
      if (component.isAnnotationPresent(Omit.class)) {
        continue;
      }
      first = name(snakeCase(component.getName()), first, out);
      write(read(record, component.getAccessor()), out);
    }
    out.append('}');
  }

  private static Object read(Record record, Method accessor) {
    try {
      if (!accessor.canAccess(record)) {
        // A record that is not public (a servlet's own answer): its accessor is still public.
        accessor.setAccessible(true);
      }
      return accessor.invoke(record);
    } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
      throw new IllegalStateException("cannot read " + accessor + " for JSON", e);
    }
  }

  private static boolean name(String name, boolean first, StringBuilder out) {
    if (!first) {
      out.append(',');
    }
    quote(name, out);
    out.append(':');
    return false;
  }
}
