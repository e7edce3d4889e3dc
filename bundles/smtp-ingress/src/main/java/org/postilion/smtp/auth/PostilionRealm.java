package org.postilion.smtp.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.AppConfigurationEntry.LoginModuleControlFlag;
import org.apache.karaf.jaas.boot.ProxyLoginModule;
import org.apache.karaf.jaas.config.JaasRealm;
import org.apache.karaf.jaas.modules.properties.AutoEncryptionSupport;
import org.apache.karaf.jaas.modules.properties.PropertiesLoginModule;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JAAS realm {@value #NAME} that SMTP AUTH checks credentials against: Karaf's properties login
 * module on {@code etc/postilion-users.properties}, with hashed passwords. Karaf's own {@code
 * jaas:*} commands manage its users, because the realm is registered the way Karaf's are.
 */
@Component(
    service = JaasRealm.class,
    immediate = true,
    configurationPid = "org.postilion.smtp.auth")
@Designate(ocd = PostilionRealm.Config.class)
public class PostilionRealm implements JaasRealm {
  public static final String NAME = "postilion";
  private static final Logger LOG = LoggerFactory.getLogger(PostilionRealm.class);

  @ObjectClassDefinition(name = "Postilion users", description = "The JAAS realm of SMTP AUTH")
  public @interface Config {
    @AttributeDefinition(description = "Users file; relative paths are under karaf.etc")
    String users() default "postilion-users.properties";

    @AttributeDefinition(description = "Karaf encryption service that hashes passwords")
    String encryption_name() default "spring-security-crypto";

    @AttributeDefinition(description = "Hash: bcrypt, argon2, pbkdf2, scrypt")
    String encryption_algorithm() default "bcrypt";
  }

  private BundleContext bundleContext;
  private volatile AppConfigurationEntry[] entries;
  private AutoEncryptionSupport hasher;

  @Activate
  void activate(BundleContext context, Config config) {
    this.bundleContext = context;
    modified(config);
  }

  @Modified
  synchronized void modified(Config config) {
    Path users = usersFile(config.users());
    Map<String, Object> options = new HashMap<>();
    options.put(BundleContext.class.getName(), bundleContext);
    options.put(ProxyLoginModule.PROPERTY_MODULE, PropertiesLoginModule.class.getName());
    options.put(
        ProxyLoginModule.PROPERTY_BUNDLE, Long.toString(bundleContext.getBundle().getBundleId()));
    options.put("users", users.toString());
    options.put("encryption.enabled", "true");
    options.put("encryption.name", config.encryption_name());
    options.put("encryption.algorithm", config.encryption_algorithm());
    options.put("encryption.prefix", "{CRYPT}");
    options.put("encryption.suffix", "{CRYPT}");
    options.put("detailed.login.exception", "false");
    closeHasher();
    // Replaces plain-text passwords written into the file by their hashes, as Karaf does for
    // users.properties.
    hasher = new AutoEncryptionSupport(options);
    entries =
        new AppConfigurationEntry[] {
          new AppConfigurationEntry(
              ProxyLoginModule.class.getName(), LoginModuleControlFlag.REQUIRED, options)
        };
    if (countUsers(users) == 0) {
      LOG.warn(
          "No SMTP AUTH user in {}. Add one at the Karaf console: jaas:realm-manage --realm {};"
              + " jaas:user-add <name> <password>; jaas:role-add <name> tenant.<tenant>;"
              + " jaas:update",
          users,
          NAME);
    }
    Path consoleUsers = usersFile("users.properties");
    if (countUsers(consoleUsers) == 0) {
      LOG.warn(
          "No console user in {}: bin/client and the SSH console need one. The file's comments"
              + " tell how to add it.",
          consoleUsers);
    }
  }

  @Deactivate
  synchronized void closeHasher() {
    if (hasher != null) {
      hasher.close();
      hasher = null;
    }
  }

  @Override
  public String getName() {
    return NAME;
  }

  @Override
  public int getRank() {
    return 0;
  }

  @Override
  public AppConfigurationEntry[] getEntries() {
    return entries;
  }

  private static Path usersFile(String configured) {
    Path path = Path.of(configured.trim());
    return path.isAbsolute()
        ? path
        : Path.of(System.getProperty("karaf.etc", "etc")).resolve(path).toAbsolutePath();
  }

  /** Users are lines whose key is not a group ({@code _g_:}); the password is hashed. */
  private static long countUsers(Path file) {
    if (!Files.isRegularFile(file)) {
      return 0;
    }
    Properties properties = new Properties();
    try (var in = Files.newInputStream(file)) {
      properties.load(in);
    } catch (IOException e) {
      LOG.warn("Cannot read {}: {}", file, e.getMessage());
      return 0;
    }
    return properties.stringPropertyNames().stream().filter(k -> !k.startsWith("_g_:")).count();
  }
}
