package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.postilion.testkit.SmtpClient;

/**
 * SIGKILL while thousands of messages arrive and are delivered, then a restart on the same data:
 * every acknowledged message is delivered, a message is delivered twice only if its attempt was in
 * flight at the kill, and no partial file stays behind in a maildir's tmp/.
 */
public class CrashRecoveryIT {
  private static final int MESSAGES = 2000;
  private static final int SENDERS = 8;

  /** Deliveries that can be in flight at once: the maildir site's connection_limit (default 32). */
  private static final int MAX_IN_FLIGHT = 32;

  /** Messages a second the site takes: well below what 8 senders inject on a slow machine. */
  private static final int DELIVERY_RATE = 100;

  private static final Pattern NUMBER = Pattern.compile("Message-ID: <crash-(\\d+)@itest>");

  private Distribution server;

  @Before
  public void unpack() throws Exception {
    Path folder = Path.of("target/crash-" + System.nanoTime()).toAbsolutePath();
    server = Distribution.unpack(folder);
    server.setting("org.postilion.queue-default.cfg", "protocol", "held");
    server.setting("org.postilion.queue-crash.cfg", "match.domain", "crash.test");
    server.setting("org.postilion.queue-crash.cfg", "protocol", "maildir");
    server.setting("org.postilion.queue-crash.cfg", "maildir.path", "${karaf.data}/crash/{user}");
    server.setting("org.postilion.queue-crash.cfg", "retry.interval", "2s");
    // Delivery slower than the senders, so that at the kill some acknowledged mail is only in the
    // spool, however fast this machine delivers (unpaced, delivery sometimes kept up with them).
    server.setting("org.postilion.queue.shaping-crash.cfg", "match.domain", "crash.test");
    server.setting(
        "org.postilion.queue.shaping-crash.cfg", "max_message_rate", DELIVERY_RATE + "/s");
  }

  @After
  public void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  public void acknowledgedMailSurvivesSigkillAndIsDeliveredOnceOrInFlightTwice() throws Exception {
    server.start(Distribution.BOOT);
    Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicInteger next = new AtomicInteger();
    ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
    for (int s = 0; s < SENDERS; s++) {
      senders.execute(() -> send(next, acknowledged));
    }
    // Kill mid-stream: some mail acknowledged and delivered, some in the spool, some arriving.
    Path box = server.data().resolve("crash/box");
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (delivered(box).size() < MESSAGES / 6 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    int deliveredAtKill = delivered(box).size();
    server.kill();
    senders.shutdown();
    assertTrue(senders.awaitTermination(1, TimeUnit.MINUTES));
    int acknowledgedAtKill = acknowledged.size();
    assertTrue(
        "the kill came while mail was flowing: " + deliveredAtKill + " delivered",
        deliveredAtKill > 0 && deliveredAtKill < acknowledgedAtKill);

    server.start(Distribution.BOOT);
    deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    Map<Integer, Integer> copies = copies(box);
    while (!copies.keySet().containsAll(acknowledged) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      copies = copies(box);
    }
    for (int number : acknowledged) {
      assertTrue("acknowledged message " + number + " was lost", copies.containsKey(number));
    }
    int duplicates = 0;
    for (int count : copies.values()) {
      duplicates += count - 1;
    }
    System.out.printf(
        "CrashRecoveryIT: %d acknowledged, %d delivered before the kill, %d duplicates%n",
        acknowledgedAtKill, deliveredAtKill, duplicates);
    assertTrue(
        duplicates + " messages delivered twice, more than could be in flight",
        duplicates <= MAX_IN_FLIGHT);
    try (Stream<Path> tmp = Files.list(box.resolve("tmp"))) {
      assertEquals("files left in tmp/", List.of(), tmp.toList());
    }
  }

  /** Sends numbered messages until they run out or the server goes away. */
  private void send(AtomicInteger next, Set<Integer> acknowledged) {
    while (next.get() < MESSAGES) {
      try (SmtpClient smtp = new SmtpClient(server.smtpPort()).hello()) {
        for (int n = next.getAndIncrement(); n < MESSAGES; n = next.getAndIncrement()) {
          String content =
              "From: a@example.org\r\nSubject: crash "
                  + n
                  + "\r\nMessage-ID: <crash-"
                  + n
                  + "@itest>\r\n\r\nmessage "
                  + n
                  + "\r\n";
          if (smtp.sendMessage("a@example.org", "box@crash.test", content).startsWith("250")) {
            acknowledged.add(n);
          }
        }
      } catch (IOException | RuntimeException | AssertionError e) {
        // The server was killed under this client: what it acknowledged is all that counts.
        return;
      }
    }
  }

  private static List<Path> delivered(Path box) throws IOException {
    Path folder = box.resolve("new");
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(folder)) {
      return files.toList();
    }
  }

  /** How many times each numbered message was delivered. */
  private static Map<Integer, Integer> copies(Path box) throws IOException {
    Map<Integer, Integer> copies = new HashMap<>();
    for (Path file : delivered(box)) {
      String text;
      try {
        text = Files.readString(file, StandardCharsets.ISO_8859_1);
      } catch (IOException e) {
        continue; // moved on by a reader; not ours to judge
      }
      Matcher m = NUMBER.matcher(text);
      if (m.find()) {
        copies.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
      }
    }
    return copies;
  }
}
