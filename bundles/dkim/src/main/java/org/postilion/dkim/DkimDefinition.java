package org.postilion.dkim;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.queue.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One DKIM signature to add, from {@code etc/org.postilion.dkim-<name>.cfg}. Each file is one
 * signature; a message gets one from every file whose domain matches its From domain.
 */
@Component(
    service = DkimDefinition.class,
    immediate = true,
    configurationPid = "org.postilion.dkim",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = DkimDefinition.Config.class, factory = true)
public class DkimDefinition {
  private static final Logger LOG = LoggerFactory.getLogger(DkimDefinition.class);

  @ObjectClassDefinition(name = "Postilion DKIM signature", description = "One DKIM signature")
  public @interface Config {
    @AttributeDefinition(
        description = "The d= domain; mail whose From domain is it or under it is signed")
    String domain();

    @AttributeDefinition(description = "The selector, s=")
    String selector();

    @AttributeDefinition(
        name = "key.file",
        description =
            "PEM (PKCS#1 or PKCS#8) or bare base64 Ed25519 private key; relative to the"
                + " Karaf base folder")
    String key_file();

    @AttributeDefinition(description = "rsa-sha256 or ed25519-sha256")
    String algorithm() default "rsa-sha256";

    @AttributeDefinition(description = "header/body: relaxed/relaxed, simple/simple, ...")
    String canonicalization() default "relaxed/relaxed";

    @AttributeDefinition(description = "Fields to sign, comma separated; empty for RFC 6376's set")
    String headers() default "";

    @AttributeDefinition(description = "Fields signed once more than they occur")
    String oversign__headers() default "From";

    @AttributeDefinition(description = "Signature lifetime (x=), e.g. 7d; empty for none")
    String expiration() default "";

    @AttributeDefinition(description = "Whether to state the signed body length (l=)")
    boolean body__length() default false;
  }

  private volatile SignatureSpec spec;
  private volatile Path keyFile;
  private volatile String file;

  @Activate
  @Modified
  void configure(Config config, Map<String, Object> properties) {
    String fileName = ConfigFiles.fileName(properties);
    boolean hadPrevious = spec != null;
    SignatureSpec parsed =
        ConfigFiles.parseOrReject(LOG, fileName, hadPrevious, () -> parse(config));
    keyFile = resolve(config.key_file().trim()); // parse() has checked it is there
    file = fileName;
    spec = parsed;
  }

  static SignatureSpec parse(Config config) {
    String[] canonicalization = config.canonicalization().split("/", -1);
    if (canonicalization.length > 2) {
      throw new IllegalArgumentException(
          "key canonicalization: '" + config.canonicalization() + "' is not header/body");
    }
    Canonicalization header = parseKey("canonicalization", canonicalization[0]);
    // RFC 6376 3.5: "c=relaxed" alone means relaxed headers and a simple body.
    Canonicalization body =
        canonicalization.length == 2
            ? parseKey("canonicalization", canonicalization[1])
            : Canonicalization.SIMPLE;
    SigningAlgorithm algorithm;
    try {
      algorithm = SigningAlgorithm.parse(config.algorithm());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key algorithm: " + e.getMessage(), e);
    }
    List<String> headers =
        config.headers().isBlank()
            ? SignatureSpec.RECOMMENDED_HEADERS
            : Arrays.stream(config.headers().split(",")).map(String::trim).toList();
    Set<String> oversigned =
        Set.copyOf(
            Arrays.stream(config.oversign__headers().split(","))
                .map(String::trim)
                .filter(h -> !h.isEmpty())
                .toList());
    Duration expiration = null;
    if (!config.expiration().isBlank()) {
      try {
        expiration = Durations.parse(config.expiration());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("key expiration: " + e.getMessage(), e);
      }
    }
    required("key.file", config.key_file());
    return new SignatureSpec(
        required("domain", config.domain()),
        required("selector", config.selector()),
        algorithm,
        header,
        body,
        headers,
        oversigned,
        expiration,
        config.body__length());
  }

  private static Canonicalization parseKey(String key, String value) {
    try {
      return Canonicalization.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("key " + key + ": " + e.getMessage(), e);
    }
  }

  private static String required(String key, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("key " + key + " is missing");
    }
    return value.trim();
  }

  private static Path resolve(String path) {
    Path file = Path.of(path);
    return file.isAbsolute() ? file : Path.of(System.getProperty("karaf.base", ".")).resolve(file);
  }

  SignatureSpec spec() {
    return spec;
  }

  Path keyFile() {
    return keyFile;
  }

  /** The cfg file, for log lines. */
  String file() {
    return file;
  }

  /** Whether mail from this domain is signed here: the d= domain or a subdomain of it. */
  boolean covers(String fromDomain) {
    String domain = spec.domain();
    return fromDomain.equals(domain) || fromDomain.endsWith("." + domain);
  }
}
