package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.postilion.testkit.SmtpClient;

/**
 * The first slice end to end in the real distribution: SMTP in, Derby spool, queue manager, maildir
 * out, with configuration changed at run time and bundles restarted under queued mail.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MailFlowIT extends PostilionTestSupport {
  private static final String QUEUE_CFG = "etc/org.postilion.queue-itest-maildir.cfg";

  @Override
  protected Option[] extraOptions() {
    // A queue configuration present from the first boot: maildir.test goes to maildirs.
    return new Option[] {
      // Mail for domains without a test configuration waits instead of going to the internet.
      editConfigurationFilePut("etc/org.postilion.queue-default.cfg", "protocol", "held"),
      editConfigurationFilePut(QUEUE_CFG, "match.domain", "maildir.test"),
      editConfigurationFilePut(QUEUE_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          QUEUE_CFG, "maildir.path", "${karaf.data}/itest-maildir/{domain}/{user}"),
      editConfigurationFilePut(QUEUE_CFG, "retry.interval", "2s"),
    };
  }

  private static Path maildir(String domain, String user) {
    return data().resolve("itest-maildir").resolve(domain).resolve(user);
  }

  /**
   * Sends a message to maildir.test and waits for it in its maildir: the positive signal that the
   * queue manager has dispatched what was queued before it.
   */
  private void awaitOvertaken(String user) throws Exception {
    Path box = maildir("maildir.test", user);
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(
          smtp.sendMessage("sender@example.org", user + "@maildir.test", message(user, "later\r\n"))
              .startsWith("250"));
    }
    await("the later message in " + box, WAIT, () -> newMessages(box).size() == 1);
  }

  private static String message(String subject, String body) {
    return "From: sender@example.org\r\nTo: someone\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        + "Subject: "
        + subject
        + "\r\nMessage-ID: <"
        + subject
        + "@example.org>\r\n\r\n"
        + body;
  }

  @Test
  public void everyPostilionBundleIsActive() {
    Set<String> active = new TreeSet<>();
    for (Bundle b : bundleContext.getBundles()) {
      if (b.getSymbolicName().startsWith("org.postilion")) {
        assertEquals(b.getSymbolicName() + " state", Bundle.ACTIVE, b.getState());
        active.add(b.getSymbolicName());
      }
    }
    assertEquals(
        Set.of(
            "org.postilion.api",
            "org.postilion.spool",
            "org.postilion.bounce",
            "org.postilion.queue",
            "org.postilion.events",
            "org.postilion.shell",
            "org.postilion.smtp.ingress",
            "org.postilion.delivery.maildir",
            "org.postilion.delivery.smtp",
            "org.postilion.dkim",
            "org.postilion.http",
            "org.postilion.camel",
            "org.postilion.delivery.webhook",
            "org.postilion.cluster"),
        active);
  }

  @Test
  public void defaultListenerComesFromTheShippedConfiguration() throws Exception {
    String shipped = Files.readString(etc().resolve("org.postilion.smtp.listener-default.cfg"));
    assertTrue(shipped, shipped.contains("relay_hosts"));
    try (SmtpClient smtp = new SmtpClient(smtpPort())) {
      assertTrue(smtp.reply().startsWith("220 "));
      String ehlo = smtp.send("EHLO itest.example");
      for (String keyword :
          new String[] {"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 20971520"}) {
        assertTrue(keyword + " in " + ehlo, ehlo.contains(keyword));
      }
    }
  }

  @Test
  public void smtpMessageLandsInTheMaildirByteForByte() throws Exception {
    String content = message("exact", "Hello maildir.\r\n.leading dot\r\n\r\ntrailing line\r\n");
    String reply;
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      reply = smtp.sendMessage("sender@example.org", "alice@maildir.test", content);
    }
    assertTrue(reply, reply.matches("250 2\\.0\\.0 Ok queued as [0-9a-f]{32}"));
    String id = reply.substring(reply.lastIndexOf(' ') + 1);

    Path box = maildir("maildir.test", "alice");
    await("a message in " + box, WAIT, () -> newMessages(box).size() == 1);
    assertDeliveredAsSent(content, Files.readAllBytes(newMessages(box).get(0)));
    await(
        "a Delivery record for " + id,
        WAIT,
        () ->
            eventLog()
                .lines()
                .anyMatch(
                    l ->
                        l.contains("\"type\":\"Delivery\"")
                            && l.contains("\"id\":\"" + id + "\"")
                            && l.contains("\"recipient\":\"alice@maildir.test\"")
                            && l.contains("\"queue\":\"maildir.test\"")
                            && l.contains("\"delivery_protocol\":\"Maildir\"")));
  }

  @Test
  public void tenantAndCampaignHeadersNameTheQueueAndAreRemoved() throws Exception {
    writeQueueConfig(
        "itest-tenants",
        "match.domain = tenants.test\n"
            + "protocol = maildir\n"
            + "maildir.path = ${karaf.data}/itest-maildir/{tenant}/{campaign}/{user}\n");
    String content =
        "X-Tenant: acme\r\nFrom: news@acme.example\r\nX-Campaign: spring\r\nSubject: sale\r\n"
            + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <sale@acme.example>\r\n"
            + "\r\nbody\r\n";
    String reply;
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      reply = smtp.sendMessage("news@acme.example", "bob@tenants.test", content);
    }
    assertTrue(reply, reply.startsWith("250 "));
    Path box = data().resolve("itest-maildir/acme/spring/bob");
    await("a message in " + box, WAIT, () -> newMessages(box).size() == 1);
    assertDeliveredAsSent(
        "From: news@acme.example\r\nSubject: sale\r\n"
            + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <sale@acme.example>\r\n"
            + "\r\nbody\r\n",
        Files.readAllBytes(newMessages(box).get(0)));
    assertTrue(eventLog().contains("\"queue\":\"spring:acme@tenants.test\""));
  }

  @Test
  public void nonRelayClientIsRefusedForForeignDomains() throws Exception {
    // 127.0.0.2 is not in the default relay_hosts (127.0.0.1/32, ::1/128).
    try (SmtpClient smtp = new SmtpClient("127.0.0.2", smtpPort()).hello()) {
      assertTrue(smtp.send("MAIL FROM:<spammer@example.net>").startsWith("250"));
      assertEquals("550 5.7.1 relaying denied", smtp.send("RCPT TO:<victim@elsewhere.example>"));
      assertEquals(
          "550 5.7.1 relaying denied", smtp.send("RCPT TO:<postmaster@elsewhere.example>"));
      assertTrue(smtp.send("DATA").startsWith("503"));
    }
  }

  @Test
  public void queueConfigDroppedAtRunTimeAppliesToMailAlreadyQueued() throws Exception {
    // late.test has no configuration yet: the default sends it to a protocol that is not
    // installed, so the message waits in the spool.
    String content = message("late", "waited for its configuration\r\n");
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(
          smtp.sendMessage("sender@example.org", "carol@late.test", content).startsWith("250"));
    }
    Path box = data().resolve("itest-maildir/late/carol");
    awaitOvertaken("late-overtaker");
    assertTrue("nothing may be delivered before the cfg exists", newMessages(box).isEmpty());

    writeQueueConfig(
        "itest-late",
        "match.domain = late.test\nprotocol = maildir\n"
            + "maildir.path = ${karaf.data}/itest-maildir/late/{user}\n");
    await("the queued message in " + box, WAIT, () -> newMessages(box).size() == 1);
    assertDeliveredAsSent(content, Files.readAllBytes(newMessages(box).get(0)));
  }

  @Test
  public void mailQueuedBeforeARestartIsDeliveredAfterIt() throws Exception {
    Bundle maildir = bundle("org.postilion.delivery.maildir");
    Bundle queue = bundle("org.postilion.queue");
    Bundle spool = bundle("org.postilion.spool");
    Path box = maildir("maildir.test", "restart");
    String content = message("restart", "survived a restart\r\n");
    maildir.stop();
    try {
      int waiting = parkedFor("maildir");
      try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
        assertTrue(
            smtp.sendMessage("sender@example.org", "restart@maildir.test", content)
                .startsWith("250"));
      }
      await("the message parked without its protocol", WAIT, () -> parkedFor("maildir") > waiting);
      int parked = parkedFor("maildir");
      queue.stop();
      spool.stop();
      spool.start();
      queue.start();
      // The restarted queue manager loads the message and parks it for want of the protocol.
      await("the message parked after the restart", WAIT, () -> parkedFor("maildir") > parked);
      assertTrue("no maildir protocol, no delivery", newMessages(box).isEmpty());
    } finally {
      maildir.start();
    }
    await("the message queued before the restart", WAIT, () -> newMessages(box).size() == 1);
    assertDeliveredAsSent(content, Files.readAllBytes(newMessages(box).get(0)));
    // The listener follows the queue manager back up.
    await(
        "the listener to accept connections again",
        WAIT,
        () -> {
          try (SmtpClient smtp = new SmtpClient(smtpPort())) {
            return smtp.reply().startsWith("220");
          } catch (Exception e) {
            return false;
          }
        });
  }

  @Test
  public void transientFailuresAreRetriedUntilDeliveredOrExpired() throws Exception {
    // A plain file where the maildir folder should be: every write fails, a transient failure.
    Path blocked = data().resolve("itest-blocked");
    Path blockedForever = data().resolve("itest-blocked-forever");
    Files.writeString(blocked, "not a folder");
    Files.writeString(blockedForever, "not a folder");
    writeConfigs(
        EtcFile.queue(
            "itest-retry",
            "match.domain = retry.test\nprotocol = maildir\nmaildir.path = "
                + blocked
                + "/{user}\nretry.interval = 1s\nmax_age = 1h\n"),
        EtcFile.queue(
            "itest-expire",
            "match.domain = expire.test\nprotocol = maildir\nmaildir.path = "
                + blockedForever
                + "/{user}\nretry.interval = 1s\nmax_age = 4s\n"));
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(
          smtp.sendMessage("s@example.org", "dave@retry.test", message("r", "x\r\n"))
              .startsWith("250"));
      assertTrue(
          smtp.sendMessage("s@example.org", "erin@expire.test", message("e", "x\r\n"))
              .startsWith("250"));
    }
    await(
        "a TransientFailure record for dave",
        WAIT,
        () -> hasRecord("TransientFailure", "dave@retry.test", "\"code\":451"));
    // The folder becomes writable: a later retry delivers.
    Files.delete(blocked);
    Files.createDirectories(blocked);
    Path box = blocked.resolve("dave");
    await("dave's message after a retry", WAIT, () -> newMessages(box).size() == 1);
    await(
        "a Delivery record for dave",
        WAIT,
        () -> hasRecord("Delivery", "dave@retry.test", "\"num_attempts\":"));
    // erin's folder stays blocked: 1 s, then 2 s, then the next retry would be past the 4 s age.
    await(
        "an Expiration record for erin",
        WAIT,
        () -> hasRecord("Expiration", "erin@expire.test", enhancedCode("5.4.7")));
  }

  @Test
  public void permanentFailureEndsTheMessageWithABounceRecord() throws Exception {
    writeQueueConfig(
        "itest-bounce",
        "match.domain = bounce.test\nprotocol = maildir\n"
            + "maildir.path = ${karaf.data}/itest-maildir/bounce/{tenant}/{user}\n"
            + "retry.interval = 1s\n");
    // A mailbox name that is no plain folder name is refused for good by the protocol.
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(
          smtp.sendMessage("s@example.org", "{frank}@bounce.test", message("b", "x\r\n"))
              .startsWith("250"));
    }
    await(
        "a Bounce record",
        WAIT,
        () -> hasRecord("Bounce", "{frank}@bounce.test", enhancedCode("5.1.3")));
    // A retry would be due a second after the bounce; a message queued after that, in the same
    // queue, is delivered only once the dispatcher has passed that point.
    Thread.sleep(1500);
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(
          smtp.sendMessage("s@example.org", "grace@bounce.test", message("g", "x\r\n"))
              .startsWith("250"));
    }
    await(
        "the later message delivered", WAIT, () -> hasRecord("Delivery", "grace@bounce.test", ""));
    assertFalse(
        "a bounce is never retried",
        eventLog()
            .lines()
            .anyMatch(l -> l.contains("TransientFailure") && l.contains("bounce.test")));
  }

  @Test
  public void bareLineFeedInDataIsRefusedAndNothingIsQueued() throws Exception {
    Path box = maildir("maildir.test", "smuggled");
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      smtp.send("MAIL FROM:<sender@example.org>");
      smtp.send("RCPT TO:<smuggled@maildir.test>");
      smtp.send("DATA");
      smtp.write("Subject: x\r\n\r\nbody\n.\r\n");
      String reply = smtp.reply();
      assertTrue(reply, reply.startsWith("521 5.5.2"));
    }
    awaitOvertaken("after-smuggling");
    assertFalse(Files.exists(box));
    List<String> smuggled =
        eventLog().lines().filter(l -> l.contains("smuggled@")).collect(Collectors.toList());
    assertTrue(smuggled.toString(), smuggled.isEmpty());
  }
}
