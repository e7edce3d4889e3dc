import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recipients per second through {@code POST /api/inject/v1}: CONCURRENCY threads each send one
 * request at a time (blocking, HTTP/1.1 keep-alive) until TOTAL recipients have been sent, each
 * request carrying the same 1 KB message for RECIPIENTS_PER_REQUEST recipients @sink.test. Run with
 * the JDK's source launcher:
 *   java InjectLoad.java HOST PORT TOTAL CONCURRENCY RECIPIENTS_PER_REQUEST
 * Prints messages_per_s=N (accepted recipients per second), requests=N and errors=N.
 */
public final class InjectLoad {
  private static final Pattern SUCCESS_COUNT = Pattern.compile("\"success_count\"\\s*:\\s*(\\d+)");

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println(
          "usage: java InjectLoad.java HOST PORT TOTAL CONCURRENCY RECIPIENTS_PER_REQUEST");
      System.exit(2);
    }
    URI uri = URI.create("http://" + args[0] + ":" + Integer.parseInt(args[1]) + "/api/inject/v1");
    long total = Long.parseLong(args[2]);
    int concurrency = Integer.parseInt(args[3]);
    int perRequest = Integer.parseInt(args[4]);
    String content = jsonString(message());
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    // Recipients handed out to workers; each request claims up to perRequest of them, so the
    // requests together name exactly TOTAL recipients.
    AtomicLong claimed = new AtomicLong();
    AtomicLong accepted = new AtomicLong();
    AtomicLong requests = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicBoolean errorShown = new AtomicBoolean();
    AtomicLong lastResponse = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    long begin = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      pool.execute(
          () -> {
            while (true) {
              long first = claimed.getAndAdd(perRequest);
              if (first >= total) {
                return;
              }
              int count = (int) Math.min(perRequest, total - first);
              HttpRequest request =
                  HttpRequest.newBuilder(uri)
                      .timeout(Duration.ofSeconds(120))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString(body(first, count, content)))
                      .build();
              try {
                HttpResponse<String> response =
                    client.send(request, HttpResponse.BodyHandlers.ofString());
                lastResponse.accumulateAndGet(System.nanoTime(), Math::max);
                requests.incrementAndGet();
                // Recipients accepted in a non-200 answer (503 for some) are queued all the same.
                Matcher m = SUCCESS_COUNT.matcher(response.body());
                if (m.find()) {
                  accepted.addAndGet(Long.parseLong(m.group(1)));
                }
                if (response.statusCode() != 200) {
                  errors.incrementAndGet();
                  if (errorShown.compareAndSet(false, true)) {
                    System.err.println("HTTP " + response.statusCode() + ": " + response.body());
                  }
                }
              } catch (IOException e) {
                lastResponse.accumulateAndGet(System.nanoTime(), Math::max);
                requests.incrementAndGet();
                errors.incrementAndGet();
                if (errorShown.compareAndSet(false, true)) {
                  System.err.println("request failed: " + e);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
            }
          });
    }
    pool.shutdown();
    pool.awaitTermination(1, TimeUnit.HOURS);
    double seconds = (lastResponse.get() - begin) / 1e9;
    System.out.printf("messages_per_s=%.1f%n", seconds > 0 ? accepted.get() / seconds : 0.0);
    System.out.println("requests=" + requests.get());
    System.out.println("errors=" + errors.get());
    if (errors.get() > 0 || accepted.get() < total) {
      System.exit(1);
    }
  }

  /** A plain-text message of about 1 KB; no Message-ID or Date, so the server adds its own. */
  private static String message() {
    StringBuilder text =
        new StringBuilder(
            "From: Bench <bench@example.com>\r\n"
                + "To: r@sink.test\r\n"
                + "Subject: http inject bench\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n"
                + "\r\n");
    String line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    for (int i = 0; i < 14; i++) {
      text.append(line);
    }
    return text.toString();
  }

  private static String body(long first, int count, String content) {
    StringBuilder json =
        new StringBuilder(96 + count * 28 + content.length())
            .append("{\"envelope_sender\":\"bench@example.com\",\"recipients\":[");
    for (int i = 0; i < count; i++) {
      if (i > 0) {
        json.append(',');
      }
      json.append("{\"email\":\"r").append(first + i).append("@sink.test\"}");
    }
    return json.append("],\"content\":").append(content).append('}').toString();
  }

  /** A JSON string literal; the message is ASCII, so only quotes, backslashes and CR/LF matter. */
  private static String jsonString(String text) {
    return '"'
        + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\r", "\\r").replace("\n", "\\n")
        + '"';
  }
}
