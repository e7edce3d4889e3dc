package org.postilion.dkim;

import io.prometheus.metrics.core.metrics.Histogram;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.delivery.Response;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.metrics.MetricSet;
import org.postilion.api.reception.ReceivedMessage;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.ReceptionFilter;
import org.postilion.api.signing.MessageSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs every message at reception, before it is spooled, so that each delivery attempt sends the
 * same bytes. A signature whose key cannot be used is left out, the message goes on unsigned by it,
 * and its Reception record says why ({@code meta.dkim_error}): mail is never held back or dropped
 * for a key.
 */
@Component(
    service = {ReceptionFilter.class, MessageSigner.class},
    immediate = true,
    property = {ReceptionFilter.ORDER + ":Integer=" + ReceptionFilter.SIGNING, "name=dkim"})
public class DkimSigner implements ReceptionFilter, MessageSigner {
  /** KumoMTA's {@code dkim_signer_sign}: seconds to make one signature of a parsed message. */
  private final MetricSet metrics = new MetricSet();

  private final Histogram signing =
      metrics.latency("dkim_signer_sign", "How many seconds it takes to dkim sign parsed messages");

  @Deactivate
  void deactivate() {
    metrics.close();
  }

  private static final Logger LOG = LoggerFactory.getLogger(DkimSigner.class);

  private final List<DkimDefinition> definitions = new CopyOnWriteArrayList<>();
  private final KeyCache keys = new KeyCache();

  @Reference(
      cardinality = ReferenceCardinality.MULTIPLE,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  void addDefinition(DkimDefinition definition) {
    definitions.add(definition);
  }

  void removeDefinition(DkimDefinition definition) {
    definitions.remove(definition);
  }

  @Override
  public void filter(ReceivedMessage message) throws ReceptionException {
    List<String> problems = new ArrayList<>();
    MessageContent body = message.body();
    try {
      message.head(
          signMatching(
              message.head(),
              canonicalization -> {
                try (InputStream in = body.open()) {
                  return BodyHash.of(in, canonicalization);
                }
              },
              problems));
    } catch (IOException e) {
      LOG.error("Cannot read the body of {} to sign it", message.id(), e);
      throw new ReceptionException(
          Response.of(451, "4.3.0", "cannot process the message now, try again later"), e);
    }
    if (!problems.isEmpty()) {
      message.putMeta("dkim_error", String.join("; ", problems));
    }
  }

  /** Hashes the body in one canonical form; read from wherever the body lies. */
  @FunctionalInterface
  private interface BodyHasher {
    BodyHash hash(Canonicalization canonicalization) throws IOException;
  }

  @Override
  public byte[] signMatching(byte[] message) {
    int bodyStart = HeaderSection.parse(message).bodyStart();
    try {
      return signMatching(
          message,
          canonicalization -> BodyHash.of(message, bodyStart, canonicalization),
          new ArrayList<>());
    } catch (IOException e) {
      throw new UncheckedIOException("reading from memory does not fail", e);
    }
  }

  @Override
  public byte[] sign(byte[] message, String domain, String selector) {
    for (DkimDefinition definition : definitions) {
      SignatureSpec spec = definition.spec();
      if (spec.domain().equalsIgnoreCase(domain.trim()) && spec.selector().equals(selector)) {
        try {
          HeaderSection header = HeaderSection.parse(message);
          BodyHash body = BodyHash.of(message, header.bodyStart(), spec.bodyCanonicalization());
          return prepend(message, List.of(field(message, header, body, definition)));
        } catch (KeyCache.KeyUnavailableException e) {
          throw new IllegalArgumentException(e.getMessage(), e);
        }
      }
    }
    throw new IllegalArgumentException(
        "no DKIM signature is configured for domain " + domain + " and selector " + selector);
  }

  /**
   * @param message the header section, or the whole message: signatures go in front of it
   */
  private byte[] signMatching(byte[] message, BodyHasher bodies, List<String> problems)
      throws IOException {
    HeaderSection header = HeaderSection.parse(message);
    Map<Canonicalization, BodyHash> hashes = new EnumMap<>(Canonicalization.class);
    String fromDomain = fromDomain(header);
    if (fromDomain == null) {
      return message;
    }
    List<byte[]> fields = new ArrayList<>();
    for (DkimDefinition definition : definitions) {
      if (!definition.covers(fromDomain)) {
        continue;
      }
      Canonicalization canonicalization = definition.spec().bodyCanonicalization();
      BodyHash body = hashes.get(canonicalization);
      if (body == null) {
        body = bodies.hash(canonicalization);
        hashes.put(canonicalization, body);
      }
      long started = System.nanoTime();
      try {
        fields.add(field(message, header, body, definition));
        signing.observe((System.nanoTime() - started) / 1e9);
      } catch (KeyCache.KeyUnavailableException | RuntimeException e) {
        SignatureSpec spec = definition.spec();
        String problem = spec.keyRecordName() + " not signed: " + e.getMessage();
        if (e instanceof RuntimeException) {
          LOG.error("DKIM signing with {} failed", definition.file(), e);
        }
        problems.add(problem);
      }
    }
    return fields.isEmpty() ? message : prepend(message, fields);
  }

  private byte[] field(
      byte[] message, HeaderSection header, BodyHash body, DkimDefinition definition)
      throws KeyCache.KeyUnavailableException {
    SigningKey key = keys.key(definition.keyFile());
    return DkimSignature.field(message, header, body, definition.spec(), key, Instant.now());
  }

  private static byte[] prepend(byte[] message, List<byte[]> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 512 * fields.size());
    fields.forEach(out::writeBytes);
    out.writeBytes(message);
    return out.toByteArray();
  }

  /** The domain of the first address in the From field, lower-case, or null without one. */
  static String fromDomain(HeaderSection header) {
    String from = header.firstValue("From");
    if (from == null) {
      return null;
    }
    String address;
    int open = from.indexOf('<');
    if (open >= 0) {
      int close = from.indexOf('>', open);
      address = from.substring(open + 1, close < 0 ? from.length() : close);
    } else {
      int comma = from.indexOf(',');
      address = (comma < 0 ? from : from.substring(0, comma)).replaceAll("\\(.*?\\)", "");
    }
    int at = address.lastIndexOf('@');
    if (at < 0) {
      return null;
    }
    String domain = address.substring(at + 1).trim();
    return domain.isEmpty() ? null : domain.toLowerCase(Locale.ROOT);
  }
}
