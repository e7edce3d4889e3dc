package org.postilion.bounce.classify;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a bounce rules file in KumoMTA's shape, so that KumoMTA users' files work unchanged: a TOML
 * table {@code [rules]} whose keys are bounce classes and whose values are arrays of regular
 * expressions, tried in the order written.
 *
 * <pre>
 * [rules]
 * InvalidRecipient = [
 *   "^(451|550) [45]\\.1\\.[1234] ",  # a comment
 * ]
 * </pre>
 *
 * Only that much of TOML is read (comments, one table, string arrays of basic or literal strings);
 * anything else is refused with the file and line, so a mistake never passes silently.
 */
public final class RulesFile {
  /** One rule: the class a reply gets when its line matches the pattern. */
  public record Rule(String bounceClass, Pattern pattern, String origin) {}

  private final String file;
  private final String text;
  private int at;
  private int line = 1;

  private RulesFile(String file, String text) {
    this.file = file;
    this.text = text;
  }

  /**
   * The rules of a file, in order.
   *
   * @param file the name used in errors
   * @throws IllegalArgumentException naming the file and line of what is wrong
   */
  public static List<Rule> parse(String file, String text) {
    return new RulesFile(file, text).rules();
  }

  private List<Rule> rules() {
    List<Rule> rules = new ArrayList<>();
    boolean inRules = false;
    while (true) {
      skipBlankAndComments();
      if (at >= text.length()) {
        return rules;
      }
      if (text.charAt(at) == '[') {
        String table = tableHeader();
        inRules = table.equals("rules");
        if (!inRules) {
          throw error("unknown table [" + table + "]; a rules file has only [rules]");
        }
        continue;
      }
      if (!inRules) {
        throw error("a key outside of the [rules] table");
      }
      int keyLine = line;
      String bounceClass = key();
      skipSpaces();
      expect('=');
      skipSpaces();
      for (String regex : stringArray()) {
        try {
          rules.add(
              new Rule(bounceClass, Pattern.compile(regex), file + ":" + keyLine + " " + regex));
        } catch (PatternSyntaxException e) {
          throw error(
              "class "
                  + bounceClass
                  + ": "
                  + e.getDescription()
                  + " in regular expression "
                  + regex);
        }
      }
      endOfLine();
    }
  }

  private String tableHeader() {
    at++;
    skipSpaces();
    String name = key();
    skipSpaces();
    expect(']');
    endOfLine();
    return name;
  }

  private String key() {
    if (at < text.length() && (text.charAt(at) == '"' || text.charAt(at) == '\'')) {
      return string();
    }
    int start = at;
    while (at < text.length() && isBareKeyChar(text.charAt(at))) {
      at++;
    }
    if (start == at) {
      throw error("expected a bounce class name");
    }
    return text.substring(start, at);
  }

  private static boolean isBareKeyChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '-';
  }

  private List<String> stringArray() {
    expect('[');
    List<String> values = new ArrayList<>();
    while (true) {
      skipBlankAndComments();
      if (at >= text.length()) {
        throw error("the array is not closed with ]");
      }
      if (text.charAt(at) == ']') {
        at++;
        return values;
      }
      values.add(string());
      skipBlankAndComments();
      if (at < text.length() && text.charAt(at) == ',') {
        at++;
      } else if (at < text.length() && text.charAt(at) != ']') {
        throw error("expected , or ] after a string");
      }
    }
  }

  private String string() {
    char quote = text.charAt(at);
    if (quote != '"' && quote != '\'') {
      throw error("expected a quoted string");
    }
    if (text.startsWith(String.valueOf(quote).repeat(3), at)) {
      throw error("multi-line strings are not supported in rules files");
    }
    at++;
    StringBuilder value = new StringBuilder();
    while (true) {
      if (at >= text.length() || text.charAt(at) == '\n') {
        throw error("the string is not closed");
      }
      char c = text.charAt(at++);
      if (c == quote) {
        return value.toString();
      }
      if (c == '\\' && quote == '"') {
        value.append(escape());
      } else {
        value.append(c);
      }
    }
  }

  private static final Map<Character, String> ESCAPES =
      Map.of(
          'b', "\b", 't', "\t", 'n', "\n", 'f', "\f", 'r', "\r", '"', "\"", '\\', "\\", 'e',
          "\u001b");

  private String escape() {
    if (at >= text.length()) {
      throw error("the string ends in an escape");
    }
    char c = text.charAt(at++);
    String simple = ESCAPES.get(c);
    if (simple != null) {
      return simple;
    }
    int digits = c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (digits == 0 || at + digits > text.length()) {
      throw error(
          "unknown escape \\" + c + " (write \\\\ for a backslash in a regular expression)");
    }
    try {
      int codePoint = Integer.parseInt(text.substring(at, at + digits), 16);
      at += digits;
      return new String(Character.toChars(codePoint));
    } catch (IllegalArgumentException e) {
      throw error("bad unicode escape \\" + c + text.substring(at, at + digits));
    }
  }

  private void expect(char c) {
    if (at >= text.length() || text.charAt(at) != c) {
      throw error("expected " + c);
    }
    at++;
  }

  private void endOfLine() {
    skipSpaces();
    if (at < text.length() && text.charAt(at) == '#') {
      skipComment();
    }
    if (at < text.length() && text.charAt(at) != '\n' && text.charAt(at) != '\r') {
      throw error("unexpected " + text.charAt(at) + " after the value");
    }
  }

  private void skipSpaces() {
    while (at < text.length() && (text.charAt(at) == ' ' || text.charAt(at) == '\t')) {
      at++;
    }
  }

  private void skipBlankAndComments() {
    while (at < text.length()) {
      char c = text.charAt(at);
      if (c == '\n') {
        line++;
        at++;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        at++;
      } else if (c == '#') {
        skipComment();
      } else {
        return;
      }
    }
  }

  private void skipComment() {
    while (at < text.length() && text.charAt(at) != '\n') {
      at++;
    }
  }

  private IllegalArgumentException error(String message) {
    return new IllegalArgumentException(file + ":" + line + ": " + message);
  }
}
