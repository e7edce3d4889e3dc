package org.postilion.bounce.classify;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.postilion.api.bounce.BounceClassifier;
import org.postilion.api.delivery.Response;
import org.postilion.bounce.classify.RulesFile.Rule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Classifies replies by the first rule whose regular expression finds a match in the reply's single
 * line, as KumoMTA does. Results are cached (classified and uncategorized lines apart, so that a
 * flood of unique unclassified replies does not push out the common classified ones). A reply is
 * text from a remote server: only its first {@link #MAX_LINE} characters are looked at, and a rule
 * that backtracks too long on it counts as not matching.
 */
public final class RulesClassifier implements BounceClassifier {
  static final int MAX_LINE = 1024;
  private static final long STEPS_PER_RULE = 200_000;
  private static final Logger LOG = LoggerFactory.getLogger(RulesClassifier.class);

  private final List<Rule> rules;
  private final Map<String, String> classified;
  private final Map<String, Boolean> uncategorized;
  private final Set<String> slowRulesReported = ConcurrentHashMap.newKeySet();

  public RulesClassifier(List<Rule> rules, int cacheSize, int uncategorizedCacheSize) {
    this.rules = List.copyOf(rules);
    this.classified = lru(cacheSize);
    this.uncategorized = lru(uncategorizedCacheSize);
  }

  public int size() {
    return rules.size();
  }

  @Override
  public String classify(Response response) {
    return classify(BounceClassifier.singleLine(response));
  }

  /** The class of a single reply line. */
  public String classify(String line) {
    if (line.length() > MAX_LINE) {
      line = line.substring(0, MAX_LINE);
    }
    String known;
    synchronized (classified) {
      known = classified.get(line);
    }
    if (known != null) {
      return known;
    }
    synchronized (uncategorized) {
      if (uncategorized.get(line) != null) {
        return UNCATEGORIZED;
      }
    }
    String found = match(line);
    if (found == null) {
      synchronized (uncategorized) {
        uncategorized.put(line, Boolean.TRUE);
      }
      return UNCATEGORIZED;
    }
    synchronized (classified) {
      classified.put(line, found);
    }
    return found;
  }

  private String match(String line) {
    for (Rule rule : rules) {
      try {
        if (rule.pattern().matcher(new Budgeted(line, STEPS_PER_RULE)).find()) {
          return rule.bounceClass();
        }
      } catch (Budgeted.Exhausted e) {
        if (slowRulesReported.add(rule.origin())) {
          LOG.warn(
              "Bounce rule {} backtracks too much on a reply and is skipped for it: {}",
              rule.origin(),
              line);
        }
      }
    }
    return null;
  }

  private static <V> Map<String, V> lru(int size) {
    return new LinkedHashMap<>(Math.max(16, size * 4 / 3 + 1), 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > size;
      }
    };
  }

  /** The reply's text, which stops a match that reads it more than a set number of times. */
  private static final class Budgeted implements CharSequence {
    static final class Exhausted extends RuntimeException {
      Exhausted() {
        super(null, null, false, false);
      }
    }

    private final String text;
    private final long[] left;
    private final int offset;
    private final int length;

    Budgeted(String text, long budget) {
      this(text, new long[] {budget}, 0, text.length());
    }

    private Budgeted(String text, long[] left, int offset, int length) {
      this.text = text;
      this.left = left;
      this.offset = offset;
      this.length = length;
    }

    @Override
    public char charAt(int index) {
      if (--left[0] < 0) {
        throw new Exhausted();
      }
      return text.charAt(offset + index);
    }

    @Override
    public int length() {
      return length;
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return new Budgeted(text, left, offset + start, end - start);
    }

    @Override
    public String toString() {
      return text.substring(offset, offset + length);
    }
  }
}
