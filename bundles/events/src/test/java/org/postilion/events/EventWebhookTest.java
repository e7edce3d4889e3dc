package org.postilion.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.lang.annotation.Annotation;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.api.event.EventRecord;
import org.postilion.api.event.EventType;
import org.postilion.testkit.EventRecords;

class EventWebhookTest {
  @TempDir Path folder;
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final List<String> refused = new CopyOnWriteArrayList<>();
  private final AtomicInteger status = new AtomicInteger(200);
  private HttpServer server;
  private EventWebhook webhook;

  private void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/events",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          int answer = status.get();
          if (answer == 200) {
            bodies.add(new String(body, StandardCharsets.UTF_8));
            authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
          } else {
            refused.add(new String(body, StandardCharsets.UTF_8));
          }
          exchange.sendResponseHeaders(answer, -1);
          exchange.close();
        });
    server.start();
  }

  private boolean refusedSince(int index, String recipient) {
    return refused.stream().skip(index).anyMatch(body -> body.contains(recipient));
  }

  @AfterEach
  void stop() throws Exception {
    if (webhook != null) {
      webhook.deactivate();
    }
    if (server != null) {
      server.stop(0);
    }
  }

  private EventWebhook webhook(String types) throws IOException {
    EventWebhook sink = new EventWebhook();
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/events";
    sink.activate(
        config(url, types),
        Map.of("felix.fileinstall.filename", "file:/etc/org.postilion.events.webhook-t.cfg"));
    return sink;
  }

  private EventWebhook.Config config(String url, String types) {
    Path journal = folder.resolve("journal");
    return new EventWebhook.Config() {
      @Override
      public Class<? extends Annotation> annotationType() {
        return EventWebhook.Config.class;
      }

      @Override
      public String url() {
        return url;
      }

      @Override
      public String types() {
        return types;
      }

      @Override
      public int batch__size() {
        return 3;
      }

      @Override
      public String timeout() {
        return "2s";
      }

      @Override
      public String retry_initial() {
        return "50ms";
      }

      @Override
      public String retry_max() {
        return "200ms";
      }

      @Override
      public String auth_bearer() {
        return "token-1";
      }

      @Override
      public String auth_user() {
        return "";
      }

      @Override
      public String auth_password() {
        return "";
      }

      @Override
      public String headers() {
        return "";
      }

      @Override
      public String journal() {
        return journal.toString();
      }
    };
  }

  private static EventRecord record(EventType type, String recipient) {
    return EventRecords.of(type, recipient, Instant.now()).build();
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private String received() {
    return String.join("\n", bodies);
  }

  @Test
  void postsBatchesOfTheChosenTypesWithItsCredentials() throws Exception {
    startServer();
    webhook = webhook("Delivery, Bounce");
    for (int i = 0; i < 7; i++) {
      webhook.onEvent(record(EventType.DELIVERY, "d" + i + "@example.net"));
    }
    webhook.onEvent(record(EventType.RECEPTION, "r@example.net"));
    webhook.onEvent(record(EventType.BOUNCE, "b@example.net"));
    await("8 records", () -> received().split("\"type\"").length - 1 == 8);
    assertTrue(bodies.stream().allMatch(b -> b.startsWith("[{") && b.endsWith("}]")));
    assertTrue(bodies.stream().allMatch(b -> b.split("\"type\"").length - 1 <= 3), received());
    assertTrue(received().contains("\"recipient\":\"b@example.net\""));
    assertTrue(!received().contains("\"type\":\"Reception\""));
    assertTrue(authorizations.stream().allMatch("Bearer token-1"::equals));
  }

  @Test
  void keepsRecordsWhileTheEndpointFailsAndAcrossARestart() throws Exception {
    startServer();
    status.set(503);
    webhook = webhook("");
    webhook.onEvent(record(EventType.DELIVERY, "early@example.net"));
    await("an attempt while the endpoint fails", () -> refusedSince(0, "early@example.net"));
    webhook.deactivate();
    // The server restarts while the endpoint is still down; the records wait on disk.
    int beforeRestart = refused.size();
    webhook = webhook("");
    webhook.onEvent(record(EventType.EXPIRATION, "late@example.net"));
    await(
        "the early record offered again after the restart",
        () -> refusedSince(beforeRestart, "early@example.net"));
    await("the late record offered", () -> refusedSince(beforeRestart, "late@example.net"));
    assertTrue(bodies.isEmpty(), "nothing was accepted while the endpoint failed");
    status.set(200);
    await("both records", () -> received().contains("late@example.net"));
    String all = received();
    assertTrue(all.indexOf("early@example.net") < all.indexOf("late@example.net"), all);
    assertEquals(1, all.split("\"recipient\":\"early@example.net\"").length - 1, "sent once");
  }
}
