package org.postilion.dkim;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.postilion.api.message.HeaderSection;
import org.postilion.api.reception.ReceivedMessage;
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
  public void filter(ReceivedMessage message) {
    List<String> problems = new ArrayList<>();
    message.content(signMatching(message.content(), problems));
    if (!problems.isEmpty()) {
      message.putMeta("dkim_error", String.join("; ", problems));
    }
  }

  @Override
  public byte[] signMatching(byte[] message) {
    return signMatching(message, new ArrayList<>());
  }

  @Override
  public byte[] sign(byte[] message, String domain, String selector) {
    for (DkimDefinition definition : definitions) {
      SignatureSpec spec = definition.spec();
      if (spec.domain().equalsIgnoreCase(domain.trim()) && spec.selector().equals(selector)) {
        try {
          return prepend(
              message, List.of(field(message, HeaderSection.parse(message), definition)));
        } catch (KeyCache.KeyUnavailableException e) {
          throw new IllegalArgumentException(e.getMessage(), e);
        }
      }
    }
    throw new IllegalArgumentException(
        "no DKIM signature is configured for domain " + domain + " and selector " + selector);
  }

  private byte[] signMatching(byte[] message, List<String> problems) {
    HeaderSection header = HeaderSection.parse(message);
    String fromDomain = fromDomain(header);
    if (fromDomain == null) {
      return message;
    }
    List<byte[]> fields = new ArrayList<>();
    for (DkimDefinition definition : definitions) {
      if (!definition.covers(fromDomain)) {
        continue;
      }
      try {
        fields.add(field(message, header, definition));
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

  private byte[] field(byte[] message, HeaderSection header, DkimDefinition definition)
      throws KeyCache.KeyUnavailableException {
    SigningKey key = keys.key(definition.keyFile());
    return DkimSignature.field(message, header, definition.spec(), key, Instant.now());
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
