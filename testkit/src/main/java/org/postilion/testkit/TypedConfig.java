package org.postilion.testkit;

import java.lang.reflect.Proxy;
import java.util.Map;

/**
 * Builds a component's typed configuration (an {@code @ObjectClassDefinition} annotation) from cfg
 * keys, the way Declarative Services does: {@code _} in a member name is {@code .} in the key, and
 * {@code __} is {@code _}; a key that is not given takes the member's default.
 */
public final class TypedConfig {
  private TypedConfig() {}

  public static <A> A of(Class<A> type, Map<String, ?> keys) {
    return type.cast(
        Proxy.newProxyInstance(
            type.getClassLoader(),
            new Class<?>[] {type},
            (proxy, method, args) -> {
              String key =
                  method.getName().replace("__", "\0").replace('_', '.').replace('\0', '_');
              return keys.containsKey(key) ? keys.get(key) : method.getDefaultValue();
            }));
  }
}
