package org.postilion.api.delivery;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.postilion.api.json.Json;
import org.postilion.api.queue.Durations;

/**
 * One per-queue key a delivery protocol reads from the queue files that select it ({@code
 * smtp.mx_list}, {@code maildir.path}). The queue manager checks every file against the keys its
 * protocol declares when the file is written, or when the protocol arrives: a key that is not
 * declared, or a value its check refuses, rejects the file with a log line naming the file and the
 * key, and the previous version of the file stays in force.
 *
 * @param name the key as written in the file, starting with the protocol's name and a dot
 * @param type what the value is, for operators ({@code duration}, {@code host list}, ...)
 * @param defaultValue what applies when the file does not set the key; empty when nothing does
 * @param description one line for {@code mta:protocols} and the documentation
 * @param check refuses a malformed value with an {@link IllegalArgumentException}
 */
public record ProtocolKey(
    String name, String type, String defaultValue, String description, @Json.Omit Check check) {

  /** Parses a value the way the protocol will, throwing when it cannot. */
  @FunctionalInterface
  public interface Check {
    void accept(String value);
  }

  public ProtocolKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(check, "check");
    defaultValue = defaultValue == null ? "" : defaultValue;
    description = description == null ? "" : description;
  }

  /** Any text. */
  public static ProtocolKey text(String name, String defaultValue, String description) {
    return new ProtocolKey(name, "text", defaultValue, description, value -> {});
  }

  /** {@code true} or {@code false}, in any case. */
  public static ProtocolKey bool(String name, boolean defaultValue, String description) {
    return new ProtocolKey(
        name,
        "boolean",
        String.valueOf(defaultValue),
        description,
        value -> {
          String v = value.trim().toLowerCase(Locale.ROOT);
          if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("must be true or false, not '" + value + "'");
          }
        });
  }

  /** A whole number from {@code min} to {@code max}. */
  public static ProtocolKey integer(
      String name, int defaultValue, int min, int max, String description) {
    return new ProtocolKey(
        name,
        "integer " + min + ".." + max,
        String.valueOf(defaultValue),
        description,
        value -> {
          int number;
          try {
            number = Integer.parseInt(value.trim());
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a whole number: '" + value + "'", e);
          }
          if (number < min || number > max) {
            throw new IllegalArgumentException(
                "must be from " + min + " to " + max + ", not " + number);
          }
        });
  }

  /** A duration as {@link Durations#parse} reads it: 30s, 20m, PT1H. */
  public static ProtocolKey duration(String name, String defaultValue, String description) {
    return new ProtocolKey(name, "duration", defaultValue, description, Durations::parse);
  }

  /** One of {@code values}, in any case. */
  public static ProtocolKey oneOf(
      String name, String defaultValue, String description, String... values) {
    List<String> allowed = List.of(values);
    return new ProtocolKey(
        name,
        String.join("|", allowed),
        defaultValue,
        description,
        value -> {
          if (!allowed.contains(value.trim().toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException(
                "must be one of " + String.join(", ", allowed) + ", not '" + value + "'");
          }
        });
  }

  /**
   * Checks {@code value}, an empty one meaning "not set".
   *
   * @throws IllegalArgumentException starting with "key {@code name}:"
   */
  public void validate(String value) {
    if (value == null || value.isBlank()) {
      return;
    }
    try {
      check.accept(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("key " + name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return name + " (" + type + (defaultValue.isEmpty() ? "" : ", default " + defaultValue) + ")";
  }
}
