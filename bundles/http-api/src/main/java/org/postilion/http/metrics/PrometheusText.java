package org.postilion.http.metrics;

import java.util.Map;
import java.util.TreeMap;

/** Prometheus text exposition format 0.0.4. */
final class PrometheusText {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final StringBuilder text = new StringBuilder(8192);

  PrometheusText type(String metric, String type) {
    text.append("# TYPE ").append(metric).append(' ').append(type).append('\n');
    return this;
  }

  PrometheusText help(String metric, String help) {
    text.append("# HELP ").append(metric).append(' ').append(help).append('\n');
    return this;
  }

  PrometheusText sample(String metric, Map<String, String> labels, double value) {
    text.append(metric);
    if (!labels.isEmpty()) {
      text.append('{');
      boolean first = true;
      for (Map.Entry<String, String> label : new TreeMap<>(labels).entrySet()) {
        if (!first) {
          text.append(',');
        }
        first = false;
        text.append(label.getKey()).append("=\"").append(escape(label.getValue())).append('"');
      }
      text.append('}');
    }
    text.append(' ');
    if (value == Math.rint(value) && !Double.isInfinite(value)) {
      text.append((long) value);
    } else {
      text.append(value);
    }
    text.append('\n');
    return this;
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  @Override
  public String toString() {
    return text.toString();
  }
}
