package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.MethodSorters;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.testkit.DovecotServer;
import org.postilion.testkit.SmtpClient;

/**
 * A protocol bundle deployed, updated and removed in the running server while mail flows, against a
 * real Dovecot LMTP server. The tests run in name order: each builds on the bundle state the
 * previous one left.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class LmtpHotDeployIT extends PostilionTestSupport {
  private static final String BUNDLE_PROPERTY = "postilion.lmtp.bundle";
  private static final String LMTP = "org.postilion.delivery.lmtp";
  private static DovecotServer dovecot;

  @Inject FeaturesService features;

  @Override
  protected Option[] extraOptions() {
    return new Option[] {
      editConfigurationFilePut("etc/org.postilion.queue-default.cfg", "protocol", "held"),
      systemProperty(BUNDLE_PROPERTY).value(System.getProperty(BUNDLE_PROPERTY)),
    };
  }

  /** Dovecot, started once for the class inside the container, and the queue routed to it. */
  private DovecotServer dovecot() throws Exception {
    if (dovecot == null) {
      dovecot =
          new DovecotServer(
              // Under /tmp: Unix socket paths must stay short.
              Files.createTempDirectory("dovecot"), List.of("alice", "bob", "carol", "dave"));
      writeQueueConfig(
          "itest-lmtp",
          "match.domain = lmtp.test\nprotocol = lmtp\nlmtp.port = "
              + dovecot.port()
              + "\nretry.interval = 1s\n");
    }
    return dovecot;
  }

  private Object queueAdminServiceId() {
    return bundleContext.getServiceReference(QueueAdmin.class).getProperty("service.id");
  }

  private static Path bundleJar() {
    return Path.of(System.getProperty(BUNDLE_PROPERTY));
  }

  private static String message(String user, int sequence) {
    return "From: sender@example.org\r\nSubject: lmtp "
        + sequence
        + "\r\nX-Seq: "
        + user
        + "-"
        + sequence
        + "\r\n\r\nbody "
        + sequence
        + "\r\n";
  }

  private static void send(String user, int from, int to) throws Exception {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      for (int i = from; i < to; i++) {
        String reply =
            smtp.sendMessage("sender@example.org", user + "@lmtp.test", message(user, i));
        assertTrue(reply, reply.startsWith("250 "));
      }
    }
  }

  /** Every X-Seq value in a user's maildir must be there exactly once, and all of them. */
  private void assertEachArrivedOnce(String user, int count) throws Exception {
    Set<String> seen = new HashSet<>();
    for (Path file : dovecot().messages(user)) {
      String text = Files.readString(file, StandardCharsets.ISO_8859_1);
      int at = text.indexOf("X-Seq: ");
      String seq = text.substring(at + 7, text.indexOf('\n', at)).trim();
      assertTrue("delivered twice: " + seq, seen.add(seq));
    }
    assertEquals(count, seen.size());
  }

  private void awaitMessages(String user, int count, Duration timeout) throws Exception {
    DovecotServer server = dovecot();
    await(
        count + " messages for " + user,
        timeout,
        () -> {
          try {
            return server.messages(user).size() >= count;
          } catch (java.io.IOException e) {
            return false;
          }
        });
  }

  @Test
  public void t1_mailWaitsUntilTheBundleIsDroppedIntoDeploy() throws Exception {
    dovecot();
    assertFalse(installed(LMTP));
    int waiting = parkedFor("lmtp");
    send("alice", 0, 3);
    await("the mail parked without its protocol", WAIT, () -> parkedFor("lmtp") > waiting);
    assertEquals("no lmtp protocol yet", 0, dovecot().messages("alice").size());
    assertTrue(shell("mta:protocols").contains("lmtp"));
    // A refresh would restart the queue bundle and re-register its services under new ids.
    Object adminServiceId = queueAdminServiceId();

    Files.copy(
        bundleJar(),
        Path.of(System.getProperty("karaf.base")).resolve("deploy/postilion-delivery-lmtp.jar"),
        StandardCopyOption.REPLACE_EXISTING);
    awaitMessages("alice", 3, WAIT);
    assertEachArrivedOnce("alice", 3);
    assertEquals("the queue bundle was not refreshed", adminServiceId, queueAdminServiceId());
  }

  @Test
  public void t2_eachRecipientGetsItsOwnRecord() throws Exception {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      smtp.send("MAIL FROM:<sender@example.org>");
      assertTrue(smtp.send("RCPT TO:<bob@lmtp.test>").startsWith("250"));
      assertTrue(smtp.send("RCPT TO:<nosuchuser@lmtp.test>").startsWith("250"));
      assertTrue(smtp.send("RCPT TO:<dave@lmtp.test>").startsWith("250"));
      assertTrue(smtp.send("DATA").startsWith("354"));
      smtp.write(message("multi", 0) + ".\r\n");
      assertTrue(smtp.reply().startsWith("250 "));
    }
    await(
        "one record per recipient",
        WAIT,
        () ->
            hasRecord("Delivery", "bob@lmtp.test", "\"delivery_protocol\":\"LMTP\"")
                && hasRecord("Delivery", "dave@lmtp.test", "Saved")
                && hasRecord("Bounce", "nosuchuser@lmtp.test", enhancedCode("5.1.1")));
  }

  @Test
  public void t3_anUpdateUnderLoadLosesAndDoublesNothing() throws Exception {
    int count = 1000;
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread sender = new Thread(() -> sendQuietly("carol", count, failure));
    sender.start();
    awaitMessages("carol", 100, WAIT);
    Bundle lmtp = bundle(LMTP);
    try (InputStream jar = Files.newInputStream(bundleJar())) {
      lmtp.update(jar);
    }
    sender.join();
    assertEquals(null, failure.get());
    awaitMessages("carol", count, Duration.ofSeconds(120));
    assertEachArrivedOnce("carol", count);
  }

  @Test
  public void t4_removalMidFlowWaitsAndReinstallDelivers() throws Exception {
    removeAndReinstallUnderLoad();
  }

  @Test
  public void t5_theFeatureInstallsTheProtocolToo() throws Exception {
    try {
      bundle(LMTP).uninstall();
      await("the lmtp bundle uninstalled", WAIT, () -> !installed(LMTP));
      String list = shell("feature:list | grep postilion-delivery-lmtp");
      assertTrue(list, list.contains("postilion-delivery-lmtp"));
      assertFalse(list, list.contains("Started"));
      int waiting = parkedFor("lmtp");
      // Whatever bob has from earlier tests stays; this test counts from here.
      int had = dovecot().messages("bob").size();
      send("bob", 101, 104);
      await("the mail parked without its protocol", WAIT, () -> parkedFor("lmtp") > waiting);
      assertEquals("waiting without the protocol", had, dovecot().messages("bob").size());
      // What feature:install does; the test's console session has no admin role for the command.
      features.installFeature("postilion-delivery-lmtp");
      awaitMessages("bob", had + 3, WAIT);
      assertEquals(Bundle.ACTIVE, bundle(LMTP).getState());
    } finally {
      // The last test: Dovecot goes with it.
      stopQuietly(dovecot);
    }
  }

  private void removeAndReinstallUnderLoad() throws Exception {
    int count = 1000;
    AtomicReference<Exception> failure = new AtomicReference<>();
    Thread sender = new Thread(() -> sendQuietly("dave", count, failure));
    sender.start();
    awaitMessages("dave", 101, WAIT); // dave has one from t2
    int waiting = parkedFor("lmtp");
    Files.delete(
        Path.of(System.getProperty("karaf.base")).resolve("deploy/postilion-delivery-lmtp.jar"));
    await("the lmtp bundle uninstalled", WAIT, () -> !installed(LMTP));
    sender.join();
    assertEquals(null, failure.get());
    await("mail parked once the protocol is gone", WAIT, () -> parkedFor("lmtp") > waiting);
    int before = dovecot().messages("dave").size();
    // Parked mail is not retried until the protocol comes back: nothing moves.
    Thread.sleep(1000);
    assertEquals(
        "nothing delivered without the protocol", before, dovecot().messages("dave").size());

    Bundle reinstalled = bundleContext.installBundle(bundleJar().toUri().toString());
    reinstalled.start();
    awaitMessages("dave", count + 1, Duration.ofSeconds(120));
    Set<String> seen = new HashSet<>();
    for (Path file : dovecot().messages("dave")) {
      String text = Files.readString(file, StandardCharsets.ISO_8859_1);
      int at = text.indexOf("X-Seq: ");
      assertTrue("delivered twice", seen.add(text.substring(at, text.indexOf('\n', at))));
    }
    assertEquals(count + 1, seen.size());
  }

  private static void stopQuietly(DovecotServer server) {
    try {
      server.close();
    } catch (Exception e) {
      // The JVM is ending; a Dovecot that cannot be stopped is reported by its own log.
    }
  }

  private static void sendQuietly(String user, int count, AtomicReference<Exception> failure) {
    try {
      send(user, 0, count);
    } catch (Exception e) {
      failure.set(e);
    }
  }
}
