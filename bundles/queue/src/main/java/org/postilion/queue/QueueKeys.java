package org.postilion.queue;

import java.lang.annotation.Annotation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.queue.shaping.ShapingDefinition;

/**
 * Checks the keys of a queue file against the queue manager's own keys and those its protocol
 * declares, so that a typo is refused when the file is written instead of failing every attempt.
 */
final class QueueKeys {

  /** The queue manager's keys, as {@link QueueDefinition.Config} names them in the file. */
  static final Set<String> CORE = keysOf(QueueDefinition.Config.class);

  /** Keys of the shaping files, which queue files sometimes carry by mistake. */
  private static final List<String> SHAPING =
      keysOf(ShapingDefinition.Config.class).stream()
          .filter(key -> !key.startsWith("match."))
          .sorted()
          .toList();

  private QueueKeys() {}

  /**
   * @param keys every key of the file but Config Admin's and File Install's own
   * @throws IllegalArgumentException "key <name>: ..." for the first key (in name order) that the
   *     protocol does not declare or whose value it refuses
   */
  static void check(String protocol, List<ProtocolKey> declared, Map<String, String> keys) {
    for (String key : new TreeSet<>(keys.keySet())) {
      if (CORE.contains(key)) {
        continue;
      }
      ProtocolKey known = find(declared, key);
      if (known == null) {
        throw new IllegalArgumentException(unknown(protocol, declared, key));
      }
      known.validate(keys.get(key));
    }
  }

  /**
   * The file keys of a typed configuration, named as Declarative Services maps its methods: a
   * single underscore is a dot, a double one an underscore ({@code retry_max__interval} is {@code
   * retry.max_interval}).
   */
  private static Set<String> keysOf(Class<? extends Annotation> config) {
    return Arrays.stream(config.getDeclaredMethods())
        .map(m -> m.getName().replace("__", "\u0000").replace('_', '.').replace('\u0000', '_'))
        .collect(Collectors.toUnmodifiableSet());
  }

  private static ProtocolKey find(List<ProtocolKey> declared, String key) {
    for (ProtocolKey candidate : declared) {
      if (candidate.name().equals(key)) {
        return candidate;
      }
    }
    return null;
  }

  private static String unknown(String protocol, List<ProtocolKey> declared, String key) {
    StringBuilder text =
        new StringBuilder("key ").append(key).append(": not a key of protocol ").append(protocol);
    String bare = key.contains(".") ? key.substring(key.indexOf('.') + 1) : key;
    String shaping = nearest(SHAPING, bare);
    List<String> names = new ArrayList<>(CORE);
    declared.forEach(k -> names.add(k.name()));
    String near = nearest(names, key);
    if (near != null) {
      text.append("; did you mean ").append(near).append('?');
    } else if (shaping != null) {
      text.append("; destination limits are set in etc/org.postilion.queue.shaping-*.cfg (")
          .append(shaping)
          .append(')');
    }
    List<String> own = declared.stream().map(ProtocolKey::name).sorted().toList();
    text.append(own.isEmpty() ? "; it has no keys of its own" : "; its keys: " + own);
    return text.toString();
  }

  /** The candidate within a few typing mistakes of {@code key}, if one is. */
  private static String nearest(List<String> candidates, String key) {
    String best = null;
    int bestDistance = Math.max(1, Math.min(3, key.length() / 4)) + 1;
    for (String candidate : candidates) {
      int distance = distance(candidate, key);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** Levenshtein distance; keys are short. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
