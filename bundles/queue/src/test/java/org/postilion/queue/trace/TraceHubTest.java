package org.postilion.queue.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.api.trace.TraceEvent;

class TraceHubTest {
  private final TraceHub hub = new TraceHub();

  private static TraceEvent event(TraceEvent.Side side, String client, String text) {
    return new TraceEvent(
        Instant.now(),
        side,
        client + ":1->127.0.0.1:25",
        TraceEvent.Kind.FROM_CLIENT,
        text,
        TraceEvent.Context.server("default", client));
  }

  @Test
  void onlyWatchersOfASideMakePublishersWorkAndEachGetsWhatItsFilterTakes() throws Exception {
    assertFalse(hub.watching(TraceEvent.Side.SERVER));
    try (SmtpTrace.Watch local =
            hub.watch(
                TraceEvent.Side.SERVER, e -> "10.0.0.1".equals(e.context().clientAddress()), 10);
        SmtpTrace.Watch all = hub.watch(TraceEvent.Side.SERVER, e -> true, 10)) {
      assertTrue(hub.watching(TraceEvent.Side.SERVER));
      assertFalse(hub.watching(TraceEvent.Side.CLIENT));
      hub.publish(event(TraceEvent.Side.SERVER, "10.0.0.1", "EHLO a"));
      hub.publish(event(TraceEvent.Side.SERVER, "10.0.0.2", "EHLO b"));
      hub.publish(event(TraceEvent.Side.CLIENT, "10.0.0.1", "EHLO c"));
      assertEquals(
          List.of("EHLO a"),
          local.poll(Duration.ofSeconds(1)).stream().map(TraceEvent::text).toList());
      assertEquals(
          List.of("EHLO a", "EHLO b"),
          all.poll(Duration.ofSeconds(1)).stream().map(TraceEvent::text).toList());
      assertEquals(List.of(), all.poll(Duration.ofMillis(50)), "a positive wait, then nothing");
    }
    assertFalse(hub.watching(TraceEvent.Side.SERVER), "closed watchers stop the publishing");
  }

  @Test
  void aWatcherThatFallsBehindLosesLinesAndNeverHoldsThePublisher() throws Exception {
    try (SmtpTrace.Watch slow = hub.watch(TraceEvent.Side.SERVER, e -> true, 3)) {
      long started = System.nanoTime();
      for (int i = 0; i < 10_000; i++) {
        hub.publish(event(TraceEvent.Side.SERVER, "10.0.0.1", "line " + i));
      }
      assertTrue(System.nanoTime() - started < Duration.ofSeconds(2).toNanos());
      assertEquals(3, slow.poll(Duration.ofSeconds(1)).size());
      assertEquals(9_997, slow.dropped());
      assertEquals(0, slow.dropped(), "counted once");
    }
  }
}
