package org.postilion.api.event;

/** A minimal streaming JSON object writer for flat records; null values are left out. */
final class JsonWriter {
  private final StringBuilder out = new StringBuilder("{");
  private boolean first = true;

  JsonWriter field(String name, String value) {
    if (value != null) {
      name(name);
      string(value);
    }
    return this;
  }

  JsonWriter field(String name, long value) {
    name(name);
    out.append(value);
    return this;
  }

  JsonWriter object(String name) {
    name(name);
    out.append('{');
    first = true;
    return this;
  }

  JsonWriter end() {
    out.append('}');
    first = false;
    return this;
  }

  String finish() {
    return out.append('}').toString();
  }

  private void name(String name) {
    if (!first) {
      out.append(',');
    }
    first = false;
    string(name);
    out.append(':');
  }

  private void string(String value) {
    JsonStrings.appendQuoted(out, value);
  }
}
