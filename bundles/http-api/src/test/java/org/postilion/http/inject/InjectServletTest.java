package org.postilion.http.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.Refusal;
import org.postilion.api.reception.Submission;

/**
 * The servlet with its render threads: slow templates are answered from the pool within their
 * limits, a full pool answers 503 at once, and no answer carries an exception's text.
 */
class InjectServletTest {
  private static final String LOOP_FOREVER =
      "{% for i in range(0,10000) %}{% for j in range(0,10000) %}{% endfor %}{% endfor %}";

  private final List<Submission> spooled = new CopyOnWriteArrayList<>();
  private volatile RuntimeException receptionFailure;
  private final Reception reception =
      new Reception() {
        @Override
        public String receive(Submission submission) {
          if (receptionFailure != null) {
            throw receptionFailure;
          }
          spooled.add(submission);
          return "id" + spooled.size();
        }

        @Override
        public void refused(Refusal refusal) {}
      };
  private final InjectSettings settings = new InjectSettings();
  private final InjectServlet servlet = new InjectServlet();

  private void configure(Map<String, Object> keys) throws Exception {
    settings.configure(config(keys));
    for (String name : List.of("settings", "reception")) {
      var field = InjectServlet.class.getDeclaredField(name);
      field.setAccessible(true);
      field.set(servlet, name.equals("settings") ? settings : reception);
    }
  }

  @AfterEach
  void stopThreads() {
    settings.deactivate();
  }

  /** The typed configuration as DS builds it from cfg keys. */
  private static InjectSettings.Config config(Map<String, Object> keys) {
    return (InjectSettings.Config)
        Proxy.newProxyInstance(
            InjectSettings.Config.class.getClassLoader(),
            new Class<?>[] {InjectSettings.Config.class},
            (proxy, method, args) -> {
              String key = method.getName().replace("__", "_");
              return keys.containsKey(key) ? keys.get(key) : method.getDefaultValue();
            });
  }

  private static String json(String textBody) {
    return "{\"envelope_sender\": \"a@example.com\", \"recipients\": [{\"email\": \"b@example.net\"}],"
        + " \"content\": {\"text_body\": \""
        + textBody.replace("\"", "\\\"")
        + "\"}}";
  }

  private FakeHttp post(String json) throws Exception {
    FakeHttp http = new FakeHttp("/v1", json);
    servlet.doPost(http.request, http.response);
    return http;
  }

  @Test
  void aTemplateThatLoopsForeverIsAnsweredFromARenderThreadWithinRenderTimeout() throws Exception {
    configure(Map.of("render_timeout", "300ms", "max_loop_iterations", Long.MAX_VALUE));
    long start = System.nanoTime();
    FakeHttp http = post(json(LOOP_FOREVER));
    assertTrue(http.async, "the Jetty thread is not held");
    assertEquals(60_000, http.asyncTimeout);
    assertEquals(422, http.await(5000), http.body());
    assertTrue((System.nanoTime() - start) / 1_000_000 < 3000);
    assertTrue(http.body().contains("render_timeout"), http.body());
    assertFalse(http.body().contains("Exception"), http.body());
    assertTrue(spooled.isEmpty());

    FakeHttp normal = post(json("Hello {{ 6 * 7 }}"));
    assertEquals(200, normal.await(5000), normal.body());
    assertEquals(1, spooled.size());
  }

  @Test
  void aFullPoolAnswers503AtOnceWithRetryAfter() throws Exception {
    configure(
        Map.of(
            "render_threads",
            1,
            "max_pending",
            1,
            "render_timeout",
            "2s",
            "max_loop_iterations",
            Long.MAX_VALUE));
    FakeHttp running = post(json(LOOP_FOREVER));
    FakeHttp waiting = post(json(LOOP_FOREVER));
    FakeHttp refused = post(json("Hello"));
    assertEquals(503, refused.await(0), refused.body());
    assertEquals("2", refused.headers.get("Retry-After"));
    assertTrue(refused.body().contains("too many injections"), refused.body());
    assertEquals(422, running.await(10_000), running.body());
    assertEquals(422, waiting.await(10_000), waiting.body());
    assertTrue(spooled.isEmpty());
  }

  @Test
  void aRequestStillWaitingAtRequestTimeoutIsAnswered503AndNeverRuns() throws Exception {
    configure(
        Map.of("render_threads", 1, "render_timeout", "1s", "max_loop_iterations", Long.MAX_VALUE));
    FakeHttp running = post(json(LOOP_FOREVER));
    FakeHttp waiting = post(json("Hello"));
    waiting.fireTimeout();
    assertEquals(503, waiting.await(0), waiting.body());
    assertTrue(waiting.headers.containsKey("Retry-After"));
    assertEquals(422, running.await(10_000), running.body());
    Thread.sleep(200);
    assertTrue(spooled.isEmpty(), "the withdrawn request did not run");
  }

  @Test
  void aRunningRequestAtRequestTimeoutStopsAndReportsWhatItQueued() throws Exception {
    configure(Map.of("render_timeout", "30s", "max_loop_iterations", Long.MAX_VALUE));
    FakeHttp running = post(json(LOOP_FOREVER));
    Thread.sleep(300);
    long start = System.nanoTime();
    running.fireTimeout();
    assertEquals(503, running.await(0), running.body());
    assertTrue((System.nanoTime() - start) / 1_000_000 < 1500);
    assertTrue(running.body().contains("\"fail_count\":1"), running.body());
    assertTrue(running.body().contains("request_timeout"), running.body());
  }

  @Test
  void refusedTemplatesAndFieldsAreCleanJsonErrors() throws Exception {
    configure(Map.of());
    FakeHttp method = post(json("{{ locale.setDefault(locale.forLanguageTag('tr-TR')) }}"));
    assertEquals(422, method.await(5000), method.body());
    assertTrue(method.body().contains("may not call methods"), method.body());
    FakeHttp macro = post(json("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"));
    assertEquals(422, macro.await(5000), macro.body());
    FakeHttp contentId =
        post(
            "{\"envelope_sender\": \"a@example.com\", \"recipients\": [{\"email\": \"b@example.net\"}],"
                + " \"content\": {\"html_body\": \"x\", \"attachments\": [{\"data\": \"x\","
                + " \"content_id\": \"a\\r\\nBcc: victim@example.org\"}]}}");
    assertEquals(400, contentId.await(0), contentId.body());
    assertTrue(
        contentId.body().contains("\"field\":\"content.attachments[0].content_id\""),
        contentId.body());
    for (FakeHttp http : List.of(method, macro, contentId)) {
      assertFalse(http.body().contains("Exception"), http.body());
      assertFalse(http.body().contains("Error"), http.body());
    }
  }

  @Test
  void anUnexpectedFailureIsA500WithoutItsText() throws Exception {
    configure(Map.of());
    receptionFailure = new IllegalStateException("secret detail of the spool");
    FakeHttp http = post(json("Hello {{ 1 }}"));
    assertEquals(500, http.await(5000), http.body());
    assertTrue(http.body().contains("internal error"), http.body());
    assertFalse(http.body().contains("secret detail"), http.body());
    assertFalse(http.body().contains("IllegalStateException"), http.body());
  }
}
