package org.postilion.http.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.web.RequestException;

/**
 * Templates that come with requests: what they can do, and that none can hold a thread, fill the
 * heap or reach the JVM. Payloads from probing the default distribution.
 */
class TemplatesTest {
  private static final int MAX_CHARS = 1 << 20;
  private static final Duration GENEROUS = Duration.ofSeconds(20);

  private final Templates templates = new Templates(MAX_CHARS);
  private RenderBudget budget = new RenderBudget(Duration.ofSeconds(5), 100_000, MAX_CHARS);

  private String render(String source, Map<String, Object> variables) throws RequestException {
    return templates.compile("content.text_body", source, false).render(variables, budget);
  }

  private String renderHtml(String source, Map<String, Object> variables) throws RequestException {
    return templates.compile("content.html_body", source, true).render(variables, budget);
  }

  /** The refusal of {@code source}, which must come well within {@link #GENEROUS}. */
  private RequestException refused(String source) {
    return assertTimeoutPreemptively(
        GENEROUS, () -> assertThrows(RequestException.class, () -> render(source, Map.of())));
  }

  private static void assertClean(RequestException e) {
    assertEquals("content.text_body", e.field(), e.describe());
    assertFalse(e.getMessage().contains("Exception"), e.getMessage());
    assertFalse(e.getMessage().contains("java."), e.getMessage());
  }

  @Test
  void ordinaryTemplatesStillWork() throws Exception {
    Map<String, Object> user = new LinkedHashMap<>();
    user.put("first", "Ann");
    user.put("city", "Köln");
    Map<String, Object> variables =
        Map.of(
            "name",
            "Ann",
            "vip",
            true,
            "items",
            List.of("tea", "cake", "jam"),
            "prices",
            List.of(3, 4, 5),
            "user",
            user,
            "tag",
            "<b>&");
    String text =
        render(
            "Hello {{ name }}{% if vip %} (VIP){% else %}!{% endif %}:"
                + "{% for i in items %} {{ loop.index + 1 }}.{{ i | upper }}"
                + "{% if loop.last %}.{% endif %}{% endfor %}"
                + " {% set total = 0 %}{% for p in prices %}{% set total = total + p %}{% endfor %}"
                + "{{ total }} {{ items | sort | join(\", \") }} {{ missing | default(\"none\") }}"
                + " {{ user.first }}/{{ user[\"city\"] }} {{ items[1] }} {{ items | length }}"
                + " {% for e in user %}{{ e.key }}={{ e.value }};{% endfor %}"
                + " {% macro greet(who) %}Hi {{ who }}{% endmacro %}{{ greet(name) }}"
                + " {{ \"x\" ~ name ~ 1 }} {{ 1..3 | join }} {{ range(1, 9, 4) | join(\",\") }}"
                + " {{ \"a-b-c\" | split(\"-\") | join(\"+\") }}"
                + " {{ \"tea time\" | replace({\"tea\": \"coffee\"}) | title }}"
                + " {{ items contains \"jam\" }} {{ items | merge([\"pie\"]) | last }}"
                + " {{ 7 * 6 }} {{ 1234567 | numberformat(\"#,##0\") }}"
                + " {% filter lower %}LOUD{% endfilter %} {{ items | reverse | first }}",
            variables);
    assertEquals(
        "Hello Ann (VIP): 1.TEA 2.CAKE 3.JAM. 12 cake, jam, tea none Ann/Köln cake 3"
            + " first=Ann;city=Köln; Hi Ann xAnn1 123 1,5,9 a+b+c Coffee Time true pie"
            + " 42 1,234,567 loud jam",
        text);
    assertEquals(
        "<p>Ann &lt;b&gt;&amp; <b>&</b></p>",
        renderHtml("<p>{{ name }} {{ tag }} <b>{{ \"&\" }}</b></p>", variables));
    assertEquals("<i>", renderHtml("{{ raw | raw }}", Map.of("raw", "<i>")));
  }

  @Test
  void filtersThatSortOrReverseLeaveTheSubstitutionsAlone() throws Exception {
    List<Object> items = new ArrayList<>(List.of(3L, 1L, 2L));
    Map<String, Object> variables = Map.of("items", items);
    for (int recipient = 0; recipient < 2; recipient++) {
      assertEquals(
          "213 123 321 3124 31",
          render(
              "{{ items | reverse | join }} {{ items | sort | join }} {{ items | rsort | join }}"
                  + " {{ (items + 4) | join }} {{ (items - [2]) | join }}",
              variables));
    }
    assertEquals(List.of(3L, 1L, 2L), items);
  }

  // --- time and loops ---

  @Test
  void aLoopForeverStopsAtMaxLoopIterations() {
    long start = System.nanoTime();
    RequestException e =
        refused(
            "{% for i in range(0,10000) %}{% for j in range(0,10000) %}{% endfor %}{% endfor %}");
    assertEquals(422, e.status());
    assertTrue(e.getMessage().contains("max_loop_iterations"), e.getMessage());
    assertClean(e);
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos());
  }

  @Test
  void aLoopForeverStopsAtRenderTimeoutAndSoDoesTheRestOfTheRequest() {
    budget = new RenderBudget(Duration.ofMillis(300), Long.MAX_VALUE, MAX_CHARS);
    long start = System.nanoTime();
    RequestException e =
        refused(
            "{% for i in range(0,10000) %}{% for j in range(0,10000) %}{% endfor %}{% endfor %}");
    long took = System.nanoTime() - start;
    assertEquals(422, e.status());
    assertTrue(e.getMessage().contains("render_timeout"), e.getMessage());
    assertTrue(took < Duration.ofSeconds(2).toNanos(), took / 1_000_000 + "ms");
    // The request's time is used up: the next recipient's rendering fails at once.
    RequestException next = refused("{% if true %}x{% endif %}");
    assertTrue(next.getMessage().contains("render_timeout"), next.getMessage());
  }

  @Test
  void aRegularExpressionThatBacktracksForeverStopsAtRenderTimeout() {
    budget = new RenderBudget(Duration.ofMillis(300), 100_000, MAX_CHARS);
    RequestException e =
        refused("{{ \"" + "a".repeat(40) + "!\" | split(\"(.*a){41}\") | length }}");
    assertTrue(e.getMessage().contains("render_timeout"), e.getMessage());
  }

  @Test
  void aCancelledRequestStopsRenderingWith503() {
    budget.cancel("the request took longer than 60s (request_timeout)");
    RequestException e = refused("{{ 1 }}");
    assertEquals(503, e.status());
    assertTrue(e.getMessage().contains("request_timeout"), e.getMessage());
  }

  @Test
  void recursiveMacrosAreACleanError() {
    RequestException e = refused("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}");
    assertEquals(422, e.status());
    assertTrue(e.getMessage().contains("deeper than"), e.getMessage());
    assertClean(e);
    RequestException bomb = refused("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}");
    assertClean(bomb);
  }

  @Test
  void hugeRangesAreRefusedBeforeTheyAreBuilt() {
    for (String source :
        List.of(
            "{{ range(0, 100000000000) | length }}",
            "{% for i in 0..100000000000 %}{% endfor %}",
            "{{ range(-9223372036854775807, 9223372036854775807) | length }}")) {
      RequestException e = refused(source);
      assertTrue(e.getMessage().contains("max_loop_iterations"), source + ": " + e.getMessage());
    }
  }

  // --- memory ---

  @Test
  void valuesCannotGrowPastMaxRenderedSize() {
    for (String source :
        List.of(
            // 2^27 doublings of a string by ~
            "{% set a = \"xxxxxxxxxxxxxxxx\" %}{% for i in range(0,27) %}{% set a = a ~ a %}"
                + "{% endfor %}{{ a | length }}",
            // and by +
            "{% set a = \"xxxxxxxxxxxxxxxx\" %}{% for i in range(0,27) %}{% set a = a + a %}"
                + "{% endfor %}{{ a | length }}",
            // a list doubled by merge
            "{% set l = [1] %}{% for i in range(0,40) %}{% set l = l | merge(l) %}{% endfor %}"
                + "{{ l | length }}",
            // a list of itself, twice, thirty times over
            "{% set l = [1] %}{% for i in range(0,30) %}{% set l = [l, l] %}{% endfor %}{{ l }}",
            // replace chains that double the text
            "{% set s = \"ab\" %}{% for i in range(0,30) %}"
                + "{% set s = s | replace({\"a\": \"aa\", \"b\": \"bb\"}) %}{% endfor %}"
                + "{{ s | length }}",
            // one replace that multiplies
            "{% set s = \"aaaaaaaaaa\" %}{% set t = s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s %}"
                + "{% set t = t ~ t ~ t ~ t ~ t ~ t ~ t ~ t ~ t ~ t %}"
                + "{% set t = t ~ t ~ t ~ t ~ t ~ t ~ t ~ t ~ t ~ t %}"
                + "{{ t | replace({\"a\": t}) | length }}",
            "{{ \"abc\" | replace({\"\": \""
                + "x".repeat(1000)
                + "\"}) | replace({\"x\": \""
                + "y".repeat(1000)
                + "\"}) | length }}",
            // a long separator joining a long list
            "{% set sep = \"" + "-".repeat(1000) + "\" %}{{ range(0, 9999) | join(sep) | length }}",
            // a literal list naming a long value many times, which Pebble turns into a map key
            "{% set a = \"xxxxxxxxxxxxxxxx\" %}{% for i in range(0,15) %}{% set a = a ~ a %}"
                + "{% endfor %}{% set m = {\"k\": 1} %}{{ m[["
                + "a, ".repeat(63)
                + "a]] }}",
            // a macro's output doubled
            "{% macro d(s) %}{{ s }}{{ s }}{% endmacro %}{% set a = \"x\" %}"
                + "{% for i in range(0,30) %}{% set a = d(a) %}{% endfor %}{{ a | length }}")) {
      RequestException e = refused(source);
      assertEquals(422, e.status(), source);
      assertTrue(e.getMessage().contains("max_rendered_size"), source + ": " + e.getMessage());
      assertClean(e);
    }
  }

  // --- the sandbox ---

  @Test
  void templatesCannotCallMethodsOrReachTheJvm() {
    Locale before = Locale.getDefault();
    for (String source :
        List.of(
            "{{ locale.setDefault(locale.forLanguageTag(\"tr-TR\")) }}",
            "{{ true.getBoolean(\"x\") }}",
            "{{ (1).getLong(\"x\") }}",
            "{{ \"x\".getClass() }}",
            "{{ \"x\".getClass().forName(\"java.lang.Runtime\") }}",
            "{{ (1).MAX_VALUE }}",
            "{{ \"abc\".length }}",
            "{{ locale.displayName }}",
            "{{ template.name }}",
            "{{ _context.items }}",
            "{% for x in _context %}{% endfor %}",
            "{{ i18n(\"sun.util.resources.CalendarData\", \"firstDayOfWeek\") }}",
            "{{ items.size }}")) {
      RequestException e =
          assertThrows(
              RequestException.class, () -> render(source, Map.of("items", List.of(1))), source);
      assertEquals(422, e.status(), source);
      assertClean(e);
    }
    assertEquals(before, Locale.getDefault());
  }

  @Test
  void templatesCannotLoadOtherTemplatesOrStartThreads() {
    for (String source :
        List.of(
            "{% include \"hello {{ x }}\" %}",
            "{% set t = \"{% include t %}\" %}{% include t %}",
            "{% import \"x\" %}",
            "{% from \"x\" import y %}",
            "{% extends \"/etc/passwd\" %}",
            "{% embed \"x\" %}{% endembed %}",
            "{% block a %}{{ block(\"a\") }}{% endblock %}",
            "{% parallel %}x{% endparallel %}",
            "{% cache \"k\" %}x{% endcache %}")) {
      RequestException e =
          assertThrows(RequestException.class, () -> render(source, Map.of("x", 1)), source);
      assertEquals(400, e.status(), source);
      assertTrue(e.getMessage().startsWith("template does not parse"), e.getMessage());
      assertClean(e);
    }
  }

  @Test
  void failuresInsidePebbleAreCleanErrors() {
    for (String source :
        List.of(
            "{{ 1 / 0 }}",
            "{{ \"a\" - 1 }}",
            "{{ [1] | slice(-1) }}",
            "{{ [1, \"a\"] | sort }}",
            "{{ \"a\" | split(\"(\") }}",
            "{% for c in \"abc\" %}{% endfor %}",
            "{{ parent() }}",
            "{{ -\"a\" }}")) {
      RequestException e = refused(source);
      assertEquals(422, e.status(), source);
      assertClean(e);
    }
  }

  @Test
  void templatesThatDoNotParseAreA400NamingTheField() {
    for (String source :
        List.of(
            "{% macro a() %}{% endmacro %}{% macro a() %}{% endmacro %}",
            "{{ " + "(".repeat(20_000) + "1" + ")".repeat(20_000) + " }}", "{% if %}")) {
      RequestException e = refused(source);
      assertEquals(400, e.status(), e.describe());
      assertClean(e);
    }
  }
}
