package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.SmtpClient;
import org.postilion.testkit.TestSmtpServer;

/**
 * Ready queues in the queue manager, in the real distribution: a destination that greets and then
 * never answers holds only its own connections and ready queue while other mail flows, the console
 * answers and an operator's bounce goes through; and the shaping limits hold for every protocol,
 * not only SMTP.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ReadyQueueIT extends PostilionTestSupport {
  private static final int STUCK = 12_000;
  private static final String FINE_CFG = "etc/org.postilion.queue-itest-fine.cfg";

  @Override
  protected Option[] extraOptions() {
    return new Option[] {
      editConfigurationFilePut("etc/org.postilion.queue-default.cfg", "protocol", "held"),
      // The stuck sessions end after this, so the bounce of their mail completes within the test.
      editConfigurationFilePut("etc/org.postilion.delivery.smtp.cfg", "command_timeout", "20s"),
      editConfigurationFilePut(FINE_CFG, "match.domain", "fine.test"),
      editConfigurationFilePut(FINE_CFG, "protocol", "maildir"),
      editConfigurationFilePut(FINE_CFG, "maildir.path", "${karaf.data}/fine/{user}"),
    };
  }

  private static String message(int n) {
    return "From: bulk@example.org\r\nSubject: m" + n + "\r\n\r\nbody " + n + "\r\n";
  }

  /** Sends {@code count} messages to {@code domain} over {@code threads} connections. */
  private static void inject(String domain, int count, int threads) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicInteger next = new AtomicInteger();
    List<Future<Integer>> sent = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      sent.add(
          pool.submit(
              () -> {
                int accepted = 0;
                try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
                  for (int n = next.getAndIncrement(); n < count; n = next.getAndIncrement()) {
                    String reply =
                        smtp.sendMessage("bulk@example.org", "r" + n + "@" + domain, message(n));
                    accepted += reply.startsWith("250") ? 1 : 0;
                  }
                }
                return accepted;
              }));
    }
    int accepted = 0;
    for (Future<Integer> future : sent) {
      accepted += future.get();
    }
    pool.shutdown();
    assertEquals(count, accepted);
  }

  private static long files(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      return 0;
    }
    try (Stream<Path> list = Files.list(folder)) {
      return list.count();
    }
  }

  @Test
  public void aSiteThatGreetsAndNeverAnswersHoldsBackNothingElse() throws Exception {
    try (TestSmtpServer silent = new TestSmtpServer(null)) {
      silent.faults(command -> command.startsWith("EHLO") ? TestSmtpServer.Fault.SILENCE : null);
      writeQueueConfig(
          "itest-stuck",
          "match.domain = stuck.test\nprotocol = smtp\nsmtp.mx_list = [127.0.0.1]:"
              + silent.port()
              + "\nsmtp.allow_loopback = true\nsmtp.tls = disabled\n");
      inject("stuck.test", STUCK, 8);
      await("the stuck site's connections", WAIT, () -> silent.connections() >= 32);

      long start = System.nanoTime();
      inject("fine.test", 20, 1);
      Path fine = data().resolve("fine");
      await(
          "20 messages for another domain",
          WAIT,
          () -> {
            try (Stream<Path> boxes = Files.list(fine)) {
              long delivered = 0;
              for (Path box : boxes.toList()) {
                delivered += files(box.resolve("new"));
              }
              return delivered == 20;
            } catch (IOException e) {
              return false;
            }
          });
      long fineMillis = (System.nanoTime() - start) / 1_000_000;
      assertTrue("20 messages took " + fineMillis + " ms", fineMillis < 10_000);

      shell("mta:queue-summary");
      long summaryStart = System.nanoTime();
      String summary = shell("mta:queue-summary");
      long summaryMillis = (System.nanoTime() - summaryStart) / 1_000_000;
      assertTrue("queue-summary took " + summaryMillis + " ms", summaryMillis < 1000);
      assertTrue(summary, summary.contains("127.0.0.1:" + silent.port()));
      assertTrue(
          "at most connection_limit sessions: " + silent.mostConcurrent(),
          silent.mostConcurrent() <= 32);

      long bounceStart = System.nanoTime();
      String bounced = shell("mta:bounce --domain stuck.test --reason itest");
      assertTrue(
          "the bounce answered at once",
          System.nanoTime() - bounceStart < Duration.ofSeconds(5).toNanos());
      assertTrue(bounced, bounced.contains("stuck.test"));
      await(
          "AdminBounce records for all but the sessions' mail",
          Duration.ofSeconds(60),
          () -> countRecords("AdminBounce", "@stuck.test") >= STUCK - 32);
      // The messages in the stuck sessions end when the sessions time out, bounced too.
      await(
          "every stuck message bounced",
          Duration.ofSeconds(90),
          () -> countRecords("AdminBounce", "@stuck.test") == STUCK);
      assertEquals(0, countRecords("Delivery", "@stuck.test"));
    }
  }

  private static long countRecords(String type, String recipientSuffix) {
    return eventLog()
        .lines()
        .filter(l -> l.contains("\"type\":\"" + type + "\""))
        .filter(l -> l.contains(recipientSuffix + "\""))
        .count();
  }

  @Test
  public void connectionLimitAndMessageRateHoldForWebhookAndMaildirToo() throws Exception {
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext(
        "/hook",
        exchange -> {
          int now = concurrent.incrementAndGet();
          most.accumulateAndGet(now, Math::max);
          arrivals.add(System.nanoTime());
          exchange.getRequestBody().readAllBytes();
          try {
            Thread.sleep(150);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          concurrent.decrementAndGet();
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    server.start();
    try {
      int port = server.getAddress().getPort();
      Path rated = data().resolve("rated");
      String shaping = "org.postilion.queue.shaping.ShapingDefinition";
      // The limits first: mail must not find its queue before the limits that hold for it.
      writeConfigs(
          new EtcFile(
              shaping,
              "org.postilion.queue.shaping-itest-hook.cfg",
              "match.site = 127.0.0.1:"
                  + port
                  + "\nconnection_limit = 2\nmax_message_rate = 10/s\n"),
          new EtcFile(
              shaping,
              "org.postilion.queue.shaping-itest-rated.cfg",
              "match.site = " + rated + "\nmax_message_rate = 20/s\n"));
      writeConfigs(
          EtcFile.queue(
              "itest-hook",
              "match.domain = hook.test\nprotocol = webhook\nwebhook.url = http://127.0.0.1:"
                  + port
                  + "/hook\n"),
          EtcFile.queue(
              "itest-rated",
              "match.domain = rated.test\nprotocol = maildir\nmaildir.path = "
                  + rated
                  + "/{user}\n"));

      inject("hook.test", 30, 2);
      inject("rated.test", 41, 2);
      await("30 webhook calls", WAIT, () -> arrivals.size() == 30);
      assertEquals("connection_limit 2 for the webhook's site", 2, most.get());
      long span = arrivals.get(29) - arrivals.get(0);
      assertTrue("30 calls at 10/s took " + span / 1_000_000 + " ms", span >= 2_800_000_000L);

      List<Long> written = new ArrayList<>();
      await(
          "41 maildir messages",
          WAIT,
          () -> {
            written.clear();
            try (Stream<Path> boxes = Files.list(rated)) {
              for (Path box : boxes.toList()) {
                try (Stream<Path> mail = Files.list(box.resolve("new"))) {
                  for (Path file : mail.toList()) {
                    written.add(Files.getLastModifiedTime(file).toMillis());
                  }
                }
              }
            } catch (IOException e) {
              return false;
            }
            return written.size() == 41;
          });
      long first = written.stream().mapToLong(Long::longValue).min().orElseThrow();
      long last = written.stream().mapToLong(Long::longValue).max().orElseThrow();
      assertTrue("41 files at 20/s took " + (last - first) + " ms", last - first >= 1800);
    } finally {
      server.stop(0);
    }
  }
}
