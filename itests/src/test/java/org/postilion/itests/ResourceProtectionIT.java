package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.SmtpClient;

/**
 * The server protects its disk: the spool lies on a small tmpfs the test mounts, which the test
 * fills past {@code min_free_space}. Reception then refuses new mail (SMTP 452 at DATA, HTTP 503)
 * with a record, delivery goes on, every message acknowledged before is delivered, and reception
 * resumes by itself once the space is freed.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ResourceProtectionIT extends PostilionTestSupport {
  private static final String HTTP_PORT_PROPERTY = "postilion.itest.http.port";
  private static final String SMALL_DISK_PROPERTY = "postilion.itest.small.disk";
  private static final String ROUTE_CFG = "etc/org.postilion.queue-itest-disk.cfg";
  private static final long MEGABYTE = 1024 * 1024;

  /**
   * Mounts a 96 MiB tmpfs for the spool: its absolute path, or why this machine does not allow it.
   */
  private static String mountSmallDisk() {
    File folder = new File("target/small-disk-" + UUID.randomUUID()).getAbsoluteFile();
    try {
      Files.createDirectories(folder.toPath());
      Process mount =
          new ProcessBuilder(
                  "mount", "-t", "tmpfs", "-o", "size=96m", "postilion-itest", folder.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(mount.getInputStream().readAllBytes());
      if (mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0) {
        return folder.toString();
      }
      return "cannot mount a tmpfs: " + output.trim();
    } catch (IOException e) {
      return "cannot mount a tmpfs: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while mounting a tmpfs";
    }
  }

  @Override
  protected Option[] extraOptions() {
    String httpPort = String.valueOf(freePort());
    String smallDisk = mountSmallDisk();
    List<Option> options = new ArrayList<>();
    options.add(systemProperty(SMALL_DISK_PROPERTY).value(smallDisk));
    options.add(
        editConfigurationFilePut(
            "etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", httpPort));
    options.add(systemProperty(HTTP_PORT_PROPERTY).value(httpPort));
    if (smallDisk.startsWith(File.separator)) {
      options.add(
          editConfigurationFilePut(
              "etc/org.postilion.spool.cfg", "path", smallDisk + File.separator + "spool"));
      options.add(
          editConfigurationFilePut(
              "etc/org.postilion.queue.resources.cfg", "min_free_space", "40m"));
    }
    options.add(editConfigurationFilePut(ROUTE_CFG, "match.domain", "disk.test"));
    options.add(editConfigurationFilePut(ROUTE_CFG, "protocol", "maildir"));
    options.add(
        editConfigurationFilePut(ROUTE_CFG, "maildir.path", "${karaf.data}/disk-maildir/{user}"));
    return options.toArray(new Option[0]);
  }

  @AfterClass
  public static void unmountSmallDisk() throws Exception {
    String smallDisk = System.getProperty(SMALL_DISK_PROPERTY, "");
    if (smallDisk.startsWith(File.separator)) {
      // Lazily: the spool's files are still open until the server stops.
      new ProcessBuilder("umount", "-l", smallDisk)
          .inheritIO()
          .start()
          .waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static final String MESSAGE =
      "From: sender@example.org\r\nTo: ann@disk.test\r\nSubject: disk\r\n"
          + "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n";

  /** One SMTP transaction; the reply to DATA when it refused, else the reply after the message. */
  private static String send() throws IOException {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      assertTrue(smtp.send("MAIL FROM:<sender@example.org>").startsWith("250"));
      assertTrue(smtp.send("RCPT TO:<ann@disk.test>").startsWith("250"));
      String data = smtp.send("DATA");
      if (!data.startsWith("354")) {
        return data;
      }
      smtp.output().write((MESSAGE + ".\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      smtp.output().flush();
      return smtp.reply();
    }
  }

  /** KumoMTA's liveness check: its status and its text. */
  private static String liveness() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + Integer.getInteger(HTTP_PORT_PROPERTY)
                                + "/api/check-liveness/v1"))
                    .timeout(Duration.ofSeconds(10))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  private static int injectOverHttp() throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + Integer.getInteger(HTTP_PORT_PROPERTY)
                        + "/api/inject/raw/v1?envelope_sender=sender@example.org"
                        + "&recipient=ann@disk.test"))
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofString(MESSAGE))
            .build();
    return HttpClient.newHttpClient()
        .send(request, HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Test
  public void aFullSpoolDiskPausesReceptionLosesNothingAndReceptionResumes() throws Exception {
    String smallDisk = System.getProperty(SMALL_DISK_PROPERTY, "");
    Assume.assumeTrue(smallDisk, smallDisk.startsWith(File.separator));
    Path maildir = data().resolve("disk-maildir/ann");
    int acknowledged = 0;
    for (int i = 0; i < 5; i++) {
      assertTrue(send().startsWith("250"));
      acknowledged++;
    }
    assertEquals(200, injectOverHttp());
    acknowledged++;

    // Fill the spool's filesystem until less than min_free_space (40 MiB) is left.
    Path filler = Path.of(smallDisk, "filler");
    long free = Files.getFileStore(Path.of(smallDisk)).getUsableSpace();
    try (RandomAccessFile file = new RandomAccessFile(filler.toFile(), "rw")) {
      byte[] block = new byte[(int) MEGABYTE];
      for (long written = 0; written < free - 30 * MEGABYTE; written += MEGABYTE) {
        file.write(block);
      }
    }
    // Messages sent until the server notices are acknowledged or refused, never lost.
    String refused = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (refused == null && System.nanoTime() < deadline) {
      String reply = send();
      if (reply.startsWith("250")) {
        acknowledged++;
      } else {
        refused = reply;
      }
    }
    assertTrue("SMTP never refused: " + refused, refused != null);
    assertTrue(refused, refused.startsWith("452 4.3.1"));
    assertEquals(503, injectOverHttp());
    await(
        "a Rejection record naming min_free_space",
        WAIT,
        () -> hasRecord("Rejection", "ann@disk.test", "\"refusal\":\"min_free_space\""));
    assertTrue(karafLog().contains("Reception paused"));
    assertEquals("503 storage is too full", liveness());

    Files.delete(filler);
    await("reception to resume", WAIT, () -> sendQuietly().startsWith("250"));
    acknowledged++;
    int expected = acknowledged;
    await(
        "every acknowledged message in the maildir",
        WAIT,
        () -> newMessages(maildir).size() == expected);
    assertTrue(karafLog().contains("Reception resumed"));
    assertEquals("200 OK", liveness());
  }

  private static String sendQuietly() {
    try {
      return send();
    } catch (IOException | AssertionError e) {
      return String.valueOf(e);
    }
  }
}
