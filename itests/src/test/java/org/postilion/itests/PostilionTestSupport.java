package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.systemTimeout;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.keepRuntimeFolder;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.inject.Inject;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;
import org.apache.karaf.shell.support.ShellUtil;
import org.junit.Before;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.ProbeBuilder;
import org.ops4j.pax.exam.TestProbeBuilder;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;
import org.ops4j.pax.exam.options.extra.VMOption;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.postilion.testkit.SmtpClient;

/**
 * Boots the assembled Postilion distribution (the tar.gz the karaf-assembly module built) in a
 * Karaf of its own, with the SMTP listener on a free port. Subclasses add their own options.
 */
public abstract class PostilionTestSupport {
  protected static final Duration WAIT = Duration.ofSeconds(30);
  protected static final String SMTP_PORT_PROPERTY = "postilion.itest.smtp.port";

  @Inject protected BundleContext bundleContext;
  @Inject protected ServiceComponentRuntime componentRuntime;
  @Inject protected SessionFactory sessionFactory;

  @ProbeBuilder
  public TestProbeBuilder probe(TestProbeBuilder probe) {
    probe.setHeader(Constants.DYNAMICIMPORT_PACKAGE, "*");
    return probe;
  }

  @Configuration
  public Option[] config() {
    String karafVersion = requiredProperty("karaf.version");
    File distribution = new File(requiredProperty("postilion.distribution"));
    String smtpPort = String.valueOf(freePort());
    List<Option> options = new ArrayList<>();
    options.add(
        karafDistributionConfiguration()
            .frameworkUrl("file:" + distribution.getAbsolutePath())
            .karafVersion(karafVersion)
            .name("Postilion")
            .unpackDirectory(new File("target/exam"))
            .useDeployFolder(false));
    options.add(keepRuntimeFolder());
    options.add(configureConsole().ignoreLocalConsole());
    options.add(logLevel(LogLevel.INFO));
    // A boot that fails must fail the test quickly, not after Pax Exam's default hour.
    options.add(systemTimeout(180_000));
    options.add(
        editConfigurationFilePut("etc/org.postilion.smtp.listener-default.cfg", "port", smtpPort));
    options.add(systemProperty(SMTP_PORT_PROPERTY).value(smtpPort));
    // Karaf resolves Pax Exam's own bundles through Maven: the local repository, then Central.
    String localRepository = System.getProperty("org.ops4j.pax.url.mvn.localRepository", "");
    if (!localRepository.isEmpty()) {
      options.add(
          editConfigurationFilePut(
              "etc/org.ops4j.pax.url.mvn.cfg",
              "org.ops4j.pax.url.mvn.localRepository",
              localRepository));
    }
    options.add(
        editConfigurationFilePut(
            "etc/org.ops4j.pax.url.mvn.cfg",
            "org.ops4j.pax.url.mvn.repositories",
            "https://repo1.maven.org/maven2@id=central"));
    options.addAll(jdk17Options(karafVersion));
    options.addAll(Arrays.asList(extraOptions()));
    return options.toArray(new Option[0]);
  }

  /** Options of the subclass: cfg files to put in place before boot, system properties. */
  protected Option[] extraOptions() {
    return new Option[0];
  }

  /** What bin/karaf passes on Java 9 and later; Pax Exam's Karaf container does not add them. */
  private static List<Option> jdk17Options(String karafVersion) {
    return Stream.of(
            "--add-reads=java.xml=java.logging",
            "--add-exports=java.base/org.apache.karaf.specs.locator=java.xml,ALL-UNNAMED",
            "--patch-module",
            "java.base=lib/endorsed/org.apache.karaf.specs.locator-" + karafVersion + ".jar",
            "--patch-module",
            "java.xml=lib/endorsed/org.apache.karaf.specs.java.xml-" + karafVersion + ".jar",
            "--add-opens",
            "java.base/java.security=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.net=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.lang=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.util=ALL-UNNAMED",
            "--add-opens",
            "java.naming/javax.naming.spi=ALL-UNNAMED",
            "--add-opens",
            "java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.file=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.ftp=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.http=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.https=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.protocol.jar=ALL-UNNAMED",
            "--add-exports=java.base/sun.net.www.content.text=ALL-UNNAMED",
            "--add-exports=jdk.naming.rmi/com.sun.jndi.url.rmi=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "-classpath",
            "lib/jdk9plus/*"
                + File.pathSeparator
                + "lib/boot/*"
                + File.pathSeparator
                + "lib/endorsed/*")
        .map(value -> (Option) new VMOption(value))
        .toList();
  }

  private static String requiredProperty(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "system property " + name + " is not set (run through Maven)");
    }
    return value;
  }

  protected static int freePort() {
    return org.postilion.testkit.FreePorts.pick();
  }

  // --- helpers for code running inside the container ---------------------------------------------

  /** Boot finishes before Declarative Services has started the listener: wait for its greeting. */
  @Before
  public void awaitSmtpListener() throws InterruptedException {
    await("the SMTP listener's greeting on port " + smtpPort(), WAIT, PostilionTestSupport::greets);
  }

  private static boolean greets() {
    try (SmtpClient smtp = new SmtpClient(smtpPort())) {
      String greeting = smtp.reply();
      return greeting != null && greeting.startsWith("220");
    } catch (IOException e) {
      return false;
    }
  }

  protected static int smtpPort() {
    return Integer.getInteger(SMTP_PORT_PROPERTY);
  }

  protected static Path etc() {
    return Path.of(System.getProperty("karaf.etc"));
  }

  protected static Path data() {
    return Path.of(System.getProperty("karaf.data"));
  }

  /** Writes a file into etc/ whole, so File Install never reads half of it. */
  protected static void writeEtcFile(String name, String content) throws IOException {
    Path tmp = etc().resolve(name + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, etc().resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Writes {@code etc/org.postilion.queue-<name>.cfg} and waits until Declarative Services has put
   * it in force: File Install takes a second or two to notice a file.
   */
  protected void writeQueueConfig(String name, String content) throws Exception {
    writeConfigs(EtcFile.queue(name, content));
  }

  /**
   * Writes {@code etc/<file>} and waits until Declarative Services has activated the component (by
   * its class name) with it.
   */
  protected void writeConfig(String component, String file, String content) throws Exception {
    writeConfigs(new EtcFile(component, file, content));
  }

  /** A file for {@link #writeConfigs}: its content, and the component that takes it. */
  protected record EtcFile(String component, String file, String content) {
    static EtcFile queue(String name, String content) {
      return new EtcFile(
          "org.postilion.queue.QueueDefinition", "org.postilion.queue-" + name + ".cfg", content);
    }
  }

  /**
   * Writes the files together and waits until each is in force: Felix File Install takes a file
   * only once it is still for a poll, so one at a time costs two seconds each.
   */
  protected void writeConfigs(EtcFile... files) throws Exception {
    for (EtcFile file : files) {
      writeEtcFile(file.file(), file.content());
    }
    for (EtcFile file : files) {
      await(file.file() + " in force", WAIT, () -> configActive(file.component(), file.file()));
    }
  }

  private boolean configActive(String component, String file) {
    return componentRuntime.getComponentDescriptionDTOs().stream()
        .filter(d -> d.name.equals(component))
        .flatMap(d -> componentRuntime.getComponentConfigurationDTOs(d).stream())
        .anyMatch(
            c ->
                c.state == ComponentConfigurationDTO.ACTIVE
                    && String.valueOf(c.properties.get("felix.fileinstall.filename"))
                        .endsWith(file));
  }

  protected boolean installed(String symbolicName) {
    return Arrays.stream(bundleContext.getBundles())
        .anyMatch(b -> b.getSymbolicName().equals(symbolicName));
  }

  protected Bundle bundle(String symbolicName) {
    return Arrays.stream(bundleContext.getBundles())
        .filter(b -> b.getSymbolicName().equals(symbolicName))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no bundle " + symbolicName));
  }

  /** Polls until the condition holds; fails with {@code what} when the time is up. */
  protected static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** Runs a command as an operator would at the console; returns all it printed. */
  protected String shell(String command) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Session session = sessionFactory.create(System.in, out, out);
    try {
      Object result = session.execute(command);
      if (result != null) {
        out.println(result);
      }
    } catch (Exception e) {
      // As the console and bin/client report a failed command.
      ShellUtil.logException(session, e);
    } finally {
      session.close();
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** The server's log so far; empty before it exists. */
  protected static String karafLog() {
    try {
      return Files.readString(data().resolve("log/karaf.log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * How often the queue manager has logged that mail waits for {@code protocol}: it says so once
   * each time mail is parked for a protocol that was not missing before (or after its restart).
   */
  protected static int parkedFor(String protocol) {
    return occurrences(karafLog(), "waits: protocol " + protocol + " is not installed");
  }

  /** How often {@code part} occurs in {@code text}. */
  protected static int occurrences(String text, String part) {
    int count = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      count++;
    }
    return count;
  }

  /** Every event record written so far, one JSON object per line. */
  protected static String eventLog() {
    try (Stream<Path> files = Files.list(data().resolve("log"))) {
      StringBuilder all = new StringBuilder();
      // The files still written to: closed ones are compressed.
      for (Path file :
          files
              .filter(f -> f.getFileName().toString().startsWith("events-"))
              .filter(f -> f.getFileName().toString().endsWith(".jsonl"))
              .toList()) {
        all.append(Files.readString(file, StandardCharsets.UTF_8));
      }
      return all.toString();
    } catch (IOException e) {
      return "";
    }
  }

  /** True once a record of {@code type} for {@code recipient} containing {@code detail} exists. */
  protected static boolean hasRecord(String type, String recipient, String detail) {
    return eventLog()
        .lines()
        .anyMatch(
            l ->
                l.contains("\"type\":\"" + type + "\"")
                    && l.contains("\"recipient\":\"" + recipient + "\"")
                    && l.contains(detail));
  }

  /** A record's enhanced status code as KumoMTA writes it: {@code 5.1.1} as an object. */
  protected static String enhancedCode(String code) {
    String[] parts = code.split("\\.");
    return "\"enhanced_code\":{\"class\":"
        + parts[0]
        + ",\"subject\":"
        + parts[1]
        + ",\"detail\":"
        + parts[2]
        + "}";
  }

  /** The files in a maildir's new/ folder; empty when the folder does not exist yet. */
  protected static List<Path> newMessages(Path maildir) {
    Path folder = maildir.resolve("new");
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(folder)) {
      return files.toList();
    } catch (IOException e) {
      throw new IllegalStateException("cannot list " + folder, e);
    }
  }

  /**
   * Asserts that the delivered message is the sent one, byte for byte, under the one Received field
   * this server prepends at reception.
   */
  protected static void assertDeliveredAsSent(String sent, byte[] delivered) {
    String text = new String(delivered, StandardCharsets.ISO_8859_1);
    assertTrue(text, text.startsWith("Received: from "));
    int end = text.indexOf("\r\n");
    while (end >= 0
        && end + 2 < text.length()
        && (text.charAt(end + 2) == ' ' || text.charAt(end + 2) == '\t')) {
      end = text.indexOf("\r\n", end + 2);
    }
    String rest = text.substring(end + 2);
    // The server's trace header, which ties bounces and complaints back to the message.
    assertTrue(rest, rest.startsWith("X-Postilion-Ref: "));
    int after = rest.indexOf("\r\n") + 2;
    while (rest.charAt(after) == ' ') {
      after = rest.indexOf("\r\n", after) + 2;
    }
    assertEquals(sent, rest.substring(after));
  }
}
