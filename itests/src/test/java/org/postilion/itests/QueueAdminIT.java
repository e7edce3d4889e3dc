package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.ops4j.pax.exam.util.Filter;
import org.osgi.framework.Bundle;
import org.postilion.api.shaping.Rate;
import org.postilion.api.shaping.TrafficShaping;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;

/**
 * The operator's side of the queues through the real distribution: the mta:* commands run in a
 * Karaf shell session against real queued mail, traffic shaping measured at a real SMTP sink,
 * suspensions and bounces, and admin actions that outlive a restart of the spool and queues.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class QueueAdminIT extends PostilionTestSupport {

  @Inject
  @Filter(timeout = 30_000)
  TrafficShaping shaping;

  @Override
  protected Option[] extraOptions() {
    String sshPort = String.valueOf(freePort());
    return new Option[] {
      editConfigurationFilePut("etc/org.postilion.delivery.smtp.cfg", "idle_timeout", "2s"),
      editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", sshPort),
      editConfigurationFilePut("etc/users.properties", "itest", "itest-secret,_g_:admingroup"),
      systemProperty(SSH_PORT_PROPERTY).value(sshPort),
    };
  }

  private static final String SSH_PORT_PROPERTY = "itest.ssh.port";

  /**
   * Runs {@code bin/client COMMAND} as a script or cron job would: no terminal, standard input at
   * its end. Returns the exit status and what it printed.
   */
  private static Map.Entry<Integer, String> client(String command) throws Exception {
    Path home = Path.of(System.getProperty("karaf.home"));
    ProcessBuilder builder =
        new ProcessBuilder(
                "sh",
                home.resolve("bin/client").toString(),
                "-a",
                System.getProperty(SSH_PORT_PROPERTY),
                "-u",
                "itest",
                "-p",
                "itest-secret",
                "-r",
                "10",
                command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true);
    File output = File.createTempFile("bin-client", ".out");
    builder.redirectOutput(output);
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process process = builder.start();
    // A client that never ends (the bug this guards against) fails the test, not hangs it.
    boolean ended = process.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      process.destroyForcibly();
    }
    String printed = Files.readString(output.toPath(), StandardCharsets.UTF_8);
    Files.delete(output.toPath());
    assertTrue("bin/client did not end: " + printed, ended);
    return Map.entry(process.exitValue(), printed);
  }

  @Test
  public void binClientRunsOneCommandAndExitsWithItsStatus() throws Exception {
    Map.Entry<Integer, String> summary = client("mta:queue-summary");
    assertEquals(summary.getValue(), 0, (int) summary.getKey());
    assertTrue(summary.getValue(), summary.getValue().contains("Queue | Protocol | Count"));
    assertTrue(summary.getValue(), summary.getValue().matches("(?s).*Ready queue +\\| Site.*"));

    Map.Entry<Integer, String> refused = client("mta:message-show nosuchid");
    assertEquals(refused.getValue(), 1, (int) refused.getKey());
    assertTrue(
        refused.getValue(), refused.getValue().contains("Error: no message nosuchid is queued"));
  }

  /**
   * For polling: whether the command's output contains {@code text} yet. While the queue manager
   * restarts the mta commands are briefly unregistered, which counts as not yet.
   */
  private boolean shellShows(String command, String text) {
    try {
      return shell(command).contains(text);
    } catch (Exception e) {
      return false;
    }
  }

  private void routeTo(String domain, TestSmtpServer sink, String extra) throws Exception {
    writeQueueConfig(
        "itest-" + domain.replace('.', '-'),
        "match.domain = "
            + domain
            + "\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
            + sink.port()
            + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\nretry.interval = 1s\n"
            + extra);
  }

  private static String send(String recipient, String headers) throws Exception {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      return smtp.sendMessage(
          "sender@example.org",
          recipient,
          headers
              + "From: sender@example.org\r\nSubject: queued "
              + recipient
              + "\r\n\r\nbody\r\n");
    }
  }

  private static String idOf(String reply) {
    Matcher m = Pattern.compile("queued as (\\S+)").matcher(reply);
    assertTrue(reply, m.find());
    return m.group(1);
  }

  @Test
  public void shellCommandsShowAndActOnQueuedMail() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      routeTo("ops.test", sink, "");
      String suspended = shell("mta:suspend --domain ops.test --reason maintenance");
      assertTrue(suspended, suspended.startsWith("Suspended domain=ops.test until resumed (id "));

      String id = idOf(send("ann@ops.test", "X-Tenant: acme\r\nX-Campaign: spring\r\n"));
      send("bob@ops.test", "X-Tenant: acme\r\nX-Campaign: spring\r\n");
      await(
          "both recipients held by the suspension",
          WAIT,
          () ->
              shellShows("mta:queue-summary", "suspended")
                  && shellShows("mta:queue-list --domain ops.test", "bob@ops.test"));

      String summary = shell("mta:queue-summary");
      assertTrue(
          summary,
          Pattern.compile(
                  "spring:acme@ops\\.test\\s*\\|\\s*smtp\\s*\\|\\s*2\\s*\\|\\s*0\\s*\\|.*suspended")
              .matcher(summary)
              .find());
      String json = shell("mta:queue-summary --json");
      assertTrue(
          json,
          json.contains(
              "{\"name\":\"spring:acme@ops.test\",\"protocol\":\"smtp\",\"recipients\":2,"));

      String list = shell("mta:queue-list --tenant acme --campaign spring");
      assertTrue(
          list,
          list.contains(id) && list.contains("ann@ops.test") && list.contains("bob@ops.test"));
      assertTrue(shell("mta:queue-list --json --limit 1").startsWith("[{\"message_id\":"));

      String show = shell("mta:message-show " + id);
      assertTrue(show, show.contains("Id:        " + id));
      assertTrue(show, show.contains("Sender:    <sender@example.org>"));
      assertTrue(show, show.contains("Tenant:    acme"));
      assertTrue(show, show.contains("Campaign:  spring"));
      assertTrue(show, show.contains("Subject: queued ann@ops.test"));
      assertTrue(show, show.contains("spring:acme@ops.test") && show.contains("suspended"));
      assertFalse("the tenant header is not in the stored message", show.contains("X-Tenant"));

      String suspensions = shell("mta:suspend-list");
      assertTrue(
          suspensions,
          suspensions.contains("domain=ops.test") && suspensions.contains("maintenance"));
      // As KumoMTA's admin API and kcli list them (SuspendV1ListEntry).
      String suspendJson = shell("mta:suspend-list --json");
      assertTrue(
          suspendJson,
          suspendJson.contains(
              "\"campaign\":null,\"tenant\":null,\"domain\":\"ops.test\",\"reason\":\"maintenance\","
                  + "\"duration\":\""));

      String protocols = shell("mta:protocols");
      assertTrue(
          protocols,
          Pattern.compile(
                  "smtp\\s*\\|\\s*yes\\s*\\|\\s*org\\.postilion\\.delivery\\.smtp[^\\n]*spring:acme@ops\\.test")
              .matcher(protocols)
              .find());
      assertTrue(protocols, protocols.contains("maildir"));

      // Held mail is not waiting on a retry timer, so retry-now has nothing to move yet.
      assertEquals(
          "0 recipients of domain=ops.test are due now",
          shell("mta:retry-now --domain ops.test").trim());

      // Bad input: clear answers, no stack traces.
      assertEquals(
          "Error: no message nosuchid is queued", shell("mta:message-show nosuchid").trim());
      assertEquals("Error: name a domain, tenant, campaign or queue", shell("mta:bounce").trim());
      String badDuration = shell("mta:suspend --domain x.test --duration fortnight");
      assertTrue(
          badDuration, badDuration.startsWith("Error: --duration: not a duration: 'fortnight'"));
      assertTrue(shell("mta:resume no-such-id").startsWith("Error: no suspension no-such-id"));

      assertTrue(sink.received().isEmpty());
      String resumed = shell("mta:resume --domain ops.test");
      assertTrue(resumed, resumed.startsWith("Resumed domain=ops.test"));
      await("the held mail at the sink", WAIT, () -> sink.received().size() == 2);
      assertTrue(shell("mta:suspend-list").contains("no suspensions"));
    }
  }

  @Test
  public void adminBounceEmptiesTheMatchingQueuesAndWritesRecords() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      // The destination refuses for now: mail waits for its retry.
      sink.replies(command -> command.startsWith("RCPT") ? "451 4.3.0 not now" : null);
      routeTo("gone.test", sink, "retry.interval = 1h\n");
      send("c1@gone.test", "X-Tenant: t1\r\n");
      send("c2@gone.test", "X-Tenant: t1\r\n");
      send("keep@gone.test", "X-Tenant: t2\r\n");
      await(
          "three transient failures",
          WAIT,
          () ->
              eventLog()
                      .lines()
                      .filter(
                          l ->
                              l.contains("\"type\":\"TransientFailure\"")
                                  && l.contains("@gone.test"))
                      .count()
                  == 3);

      await(
          "all three waiting for their retry",
          WAIT,
          () -> {
            try {
              String waiting = shell("mta:queue-list --domain gone.test");
              return waiting.split("scheduled", -1).length == 4;
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      String rebound = shell("mta:rebind --queue t2@gone.test --reason moved");
      assertEquals("1 recipients of queue=t2@gone.test rebound", rebound.trim());
      await(
          "an AdminRebind record", WAIT, () -> hasRecord("AdminRebind", "keep@gone.test", "moved"));

      String bounced =
          shell("mta:bounce --tenant t1 --domain gone.test --reason \"customer left\"");
      assertTrue(
          bounced,
          bounced.startsWith("Bouncing 2 queued recipients of domain=gone.test tenant=t1"));
      await(
          "AdminBounce records",
          WAIT,
          () ->
              hasRecord("AdminBounce", "c1@gone.test", "customer left")
                  && hasRecord("AdminBounce", "c2@gone.test", "customer left"));
      String bounces = shell("mta:bounce-list");
      assertTrue(
          bounces,
          bounces.contains("domain=gone.test tenant=t1") && bounces.contains("customer left"));
      String list = shell("mta:queue-list --domain gone.test");
      assertFalse(list, list.contains("c1@gone.test"));
      assertTrue(list, list.contains("keep@gone.test"));

      // Mail arriving while the bounce lasts is bounced too.
      send("c3@gone.test", "X-Tenant: t1\r\n");
      await(
          "the late arrival bounced",
          WAIT,
          () -> hasRecord("AdminBounce", "c3@gone.test", "customer left"));

      // As KumoMTA's admin API and kcli list them (BounceV1ListEntry).
      String bounceJson = shell("mta:bounce-list --json");
      assertTrue(
          bounceJson, bounceJson.contains("\"domain\":\"gone.test\",\"routing_domain\":null"));
      assertTrue(bounceJson, bounceJson.contains("\"total_bounced\":"));
      String id = bounceJson.replaceAll("(?s).*?\"id\":\"([^\"]+)\".*", "$1").trim();
      assertEquals("Bounce " + id + " cancelled", shell("mta:bounce-cancel " + id).trim());
      assertTrue(shell("mta:bounce-list").contains("no bounces"));
    }
  }

  @Test
  public void aMessageRateLimitHoldsAtTheSink() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      List<Long> arrivals = recordArrivals(sink);
      writeEtcFile(
          "org.postilion.queue.shaping-itest-rate.cfg",
          "match.domain = rate.test\nmax_message_rate = 10/s\n");
      await(
          "the rate in force",
          WAIT,
          () ->
              Rate.parse("10/s").equals(shaping.forDestination("rate.test", "x").maxMessageRate()));
      routeTo("rate.test", sink, "");
      try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
        for (int i = 0; i < 31; i++) {
          assertTrue(
              smtp.sendMessage(
                      "s@example.org",
                      "r" + i + "@rate.test",
                      "From: s@example.org\r\nSubject: r\r\n\r\nx\r\n")
                  .startsWith("250"));
        }
      }
      await("31 messages at the sink", WAIT, () -> arrivals.size() == 31);
      double seconds = (arrivals.get(30) - arrivals.get(0)) / 1e9;
      double rate = 30 / seconds;
      assertTrue("measured " + rate + "/s", rate >= 8 && rate <= 12);

      // A malformed edit is refused and the limit in force stays.
      writeEtcFile(
          "org.postilion.queue.shaping-itest-rate.cfg",
          "match.domain = rate.test\nmax_message_rate = 100/fortnight\n");
      await(
          "the rejection in the log",
          WAIT,
          () ->
              karafLog()
                  .contains(
                      "org.postilion.queue.shaping-itest-rate.cfg rejected, key max_message_rate: not a rate: '100/fortnight'"));
      assertEquals(Rate.parse("10/s"), shaping.forDestination("rate.test", "x").maxMessageRate());
      Files.delete(etc().resolve("org.postilion.queue.shaping-itest-rate.cfg"));
    }
  }

  @Test
  public void aQueuesOwnRateLimitHoldsAtTheSink() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      List<Long> arrivals = recordArrivals(sink);
      // A tenant's cap in its queue configuration, over whatever the destination allows.
      writeQueueConfig(
          "itest-capped",
          "match.domain = capped.test\nmatch.tenant = small\nprotocol = smtp\n"
              + "smtp.mx_list = [127.0.0.1]:"
              + sink.port()
              + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\nmax_message_rate = 5/s\n");
      try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
        for (int i = 0; i < 16; i++) {
          assertTrue(
              smtp.sendMessage(
                      "s@example.org",
                      "q" + i + "@capped.test",
                      "X-Tenant: small\r\nFrom: s@example.org\r\n\r\nx\r\n")
                  .startsWith("250"));
        }
      }
      await("16 messages at the sink", WAIT, () -> arrivals.size() == 16);
      double rate = 15 / ((arrivals.get(15) - arrivals.get(0)) / 1e9);
      assertTrue("measured " + rate + "/s", rate >= 4 && rate <= 6);
    }
  }

  @Test
  public void aConnectionLimitOfTwoIsNeverExceeded() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      // A slow destination, so more connections would be opened if the limit let them.
      sink.replies(
          command -> {
            if (command.equals(".")) {
              try {
                Thread.sleep(150);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return null;
          });
      writeEtcFile(
          "org.postilion.queue.shaping-itest-conn.cfg",
          "match.domain = conn.test\nconnection_limit = 2\n");
      await(
          "the limit in force",
          WAIT,
          () -> shaping.forDestination("conn.test", "x").connectionLimit() == 2);
      routeTo("conn.test", sink, "");
      try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
        for (int i = 0; i < 20; i++) {
          smtp.sendMessage(
              "s@example.org",
              "r" + i + "@conn.test",
              "From: s@example.org\r\nSubject: c\r\n\r\nx\r\n");
        }
      }
      await("20 messages at the sink", WAIT, () -> sink.received().size() == 20);
      assertEquals(2, sink.mostConcurrent());
    }
  }

  @Test
  public void suspensionsSurviveARestartOfTheSpoolAndQueues() throws Exception {
    try (TestSmtpServer sink = new TestSmtpServer(null)) {
      routeTo("durable.test", sink, "");
      String out = shell("mta:suspend --domain durable.test --duration 1h --reason planned");
      assertTrue(out, out.contains("until 20"));
      send("d@durable.test", "");
      await(
          "the message held",
          WAIT,
          () -> shellShows("mta:queue-list --domain durable.test", "suspended"));

      // Stopping the spool stops the queue manager with it: both start again from Derby's files.
      Bundle spool = bundle("org.postilion.spool");
      spool.stop();
      spool.start();
      await(
          "the queue manager back with its suspension",
          WAIT,
          () -> shellShows("mta:suspend-list", "domain=durable.test"));
      String list = shell("mta:suspend-list");
      assertTrue(list, list.contains("planned"));
      // The restarted queue manager has loaded the message from the spool and holds it again.
      await(
          "the message held after the restart",
          WAIT,
          () -> shellShows("mta:queue-list --domain durable.test", "suspended"));
      assertTrue("still held after the restart", sink.received().isEmpty());
      assertTrue(shell("mta:queue-list --domain durable.test").contains("d@durable.test"));

      shell("mta:resume --domain durable.test");
      await("the message delivered after resume", WAIT, () -> sink.received().size() == 1);
    }
  }

  /** The times at which the sink took each message's data, in arrival order. */
  private static List<Long> recordArrivals(TestSmtpServer sink) {
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    sink.replies(
        command -> {
          if (command.equals(".")) {
            arrivals.add(System.nanoTime());
          }
          return null;
        });
    return arrivals;
  }
}
