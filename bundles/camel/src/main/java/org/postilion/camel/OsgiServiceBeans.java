package org.postilion.camel;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.camel.spi.BeanRepository;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * OSGi services as Camel beans: a service registered with a {@code name} property is the bean of
 * that name in routes ({@code bean: {ref: queueAdmin}}), looked up when a route asks, so a service
 * that comes later is found too.
 */
final class OsgiServiceBeans implements BeanRepository {
  static final String NAME = "name";

  private final BundleContext bundles;

  OsgiServiceBeans(BundleContext bundles) {
    this.bundles = bundles;
  }

  @Override
  public Object lookupByName(String name) {
    return lookupByNameAndType(name, Object.class);
  }

  @Override
  public <T> T lookupByNameAndType(String name, Class<T> type) {
    for (ServiceReference<?> reference : references("(" + NAME + "=" + escape(name) + ")")) {
      Object service = bundles.getService(reference);
      if (type.isInstance(service)) {
        return type.cast(service);
      }
    }
    return null;
  }

  @Override
  public <T> Map<String, T> findByTypeWithName(Class<T> type) {
    Map<String, T> found = new HashMap<>();
    for (ServiceReference<?> reference : references("(" + NAME + "=*)")) {
      Object service = bundles.getService(reference);
      if (type.isInstance(service)) {
        found.put(String.valueOf(reference.getProperty(NAME)), type.cast(service));
      }
    }
    return found;
  }

  @Override
  public <T> Set<T> findByType(Class<T> type) {
    return new HashSet<>(findByTypeWithName(type).values());
  }

  private ServiceReference<?>[] references(String filter) {
    try {
      ServiceReference<?>[] references = bundles.getAllServiceReferences(null, filter);
      return references == null ? new ServiceReference<?>[0] : references;
    } catch (InvalidSyntaxException e) {
      return new ServiceReference<?>[0];
    }
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").replace("*", "\\*");
  }
}
