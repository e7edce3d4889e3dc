package org.postilion.itests;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.inject.Inject;
import org.apache.karaf.features.FeaturesService;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.SmtpClient;

/**
 * Features stand on their own: the distribution booted with the core, SMTP ingress and maildir
 * only, into which a test installs one feature at a time, as an operator would with
 * feature:install.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FeaturesIT extends PostilionTestSupport {
  private static final String HTTP_PORT_PROPERTY = "postilion.itest.http.port";

  @Inject FeaturesService features;

  @Override
  protected Option[] extraOptions() {
    String httpPort = String.valueOf(freePort());
    return new Option[] {
      systemProperty(HTTP_PORT_PROPERTY).value(httpPort),
      editConfigurationFilePut("etc/org.ops4j.pax.web.cfg", "org.osgi.service.http.port", httpPort),
      editConfigurationFilePut(
          "etc/org.apache.karaf.features.cfg",
          "featuresBoot",
          "package,scr,log,framework,system,feature,shell,service,jaas,deployer,diagnostic,"
              + "bundle,config,postilion-core,postilion-smtp-ingress"),
    };
  }

  /**
   * postilion-delivery-webhook brings Camel, Jackson and mime4j, not the HTTP API: no Pax Web, the
   * HTTP port stays closed, and mail still goes out to a webhook.
   */
  @Test
  public void webhookDeliveryAloneLeavesTheHttpApiOut() throws Exception {
    assertFalse(installed("org.postilion.delivery.webhook"));
    features.installFeature("postilion-delivery-webhook");
    await(
        "the webhook protocol available",
        WAIT,
        () -> karafLog().contains("Delivery protocol 'webhook' is available"));

    assertFalse("the HTTP API is not installed", installed("org.postilion.http"));
    assertFalse(
        "no Pax Web",
        Arrays.stream(bundleContext.getBundles())
            .anyMatch(b -> b.getSymbolicName().startsWith("org.ops4j.pax.web")));
    int httpPort = Integer.getInteger(HTTP_PORT_PROPERTY);
    try (Socket socket = new Socket("127.0.0.1", httpPort)) {
      throw new AssertionError("something listens on the HTTP port " + httpPort);
    } catch (IOException expected) {
      // Closed, as it should be.
    }

    List<byte[]> posted = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/hook",
        exchange -> {
          posted.add(exchange.getRequestBody().readAllBytes());
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    server.start();
    try {
      writeQueueConfig(
          "itest-hook",
          "match.domain = hook.test\nprotocol = webhook\nwebhook.url = http://127.0.0.1:"
              + server.getAddress().getPort()
              + "/hook\nretry.interval = 1s\n");
      String content =
          "From: s@example.org\r\nSubject: alone\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
              + "Message-ID: <alone@example.org>\r\n\r\nposted without the API\r\n";
      try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
        assertTrue(smtp.sendMessage("s@example.org", "ann@hook.test", content).startsWith("250"));
      }
      await("the message at the webhook", WAIT, () -> posted.size() == 1);
      String body = new String(posted.get(0), StandardCharsets.UTF_8);
      assertTrue(body, body.endsWith(content));
    } finally {
      server.stop(0);
    }
  }

  /** A feature brings its bundle's cfg files into etc/, as Karaf Decanter's features do. */
  @Test
  public void aFeatureWritesItsCfgFilesIntoEtc() throws Exception {
    Path cfg = etc().resolve("org.postilion.delivery.lmtp.cfg");
    Files.deleteIfExists(cfg);
    assertFalse(installed("org.postilion.delivery.lmtp"));
    features.installFeature("postilion-delivery-lmtp");
    await(
        "the lmtp protocol available",
        WAIT,
        () -> karafLog().contains("Delivery protocol 'lmtp' is available"));
    assertTrue(Files.isRegularFile(cfg));
    assertTrue(Files.readString(cfg).contains("protocol=lmtp"));
  }
}
