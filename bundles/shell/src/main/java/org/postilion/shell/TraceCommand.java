package org.postilion.shell;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.api.trace.TraceEvent;

/**
 * What {@code mta:trace-smtp-server} and {@code mta:trace-smtp-client} share: watch the live
 * transcripts that match, print each line as it comes, until {@code --count} lines, {@code
 * --duration} or Ctrl-C. Lines that did not fit the watcher's queue while the console was slow are
 * reported as skipped, never held against the sessions.
 */
abstract class TraceCommand extends AdminCommand {
  private static final int CAPACITY = 10_000;

  @Reference(optional = true)
  SmtpTrace trace;

  @Option(name = "--count", description = "Stop after this many lines (default: no limit)")
  int count;

  @Option(
      name = "--duration",
      description = "Stop after this long, e.g. 30s, 5m (default: no limit)")
  String duration;

  abstract TraceEvent.Side side();

  abstract Predicate<TraceEvent> filter();

  @Override
  Object run() throws InterruptedException {
    if (trace == null) {
      throw new IllegalArgumentException("tracing is not available (postilion-core is stopping)");
    }
    if (count < 0) {
      throw new IllegalArgumentException("--count must be 0 (no limit) or more: " + count);
    }
    Duration limit = Views.duration(duration, "--duration");
    Predicate<TraceEvent> filter = filter();
    long deadline = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
    int printed = 0;
    try (SmtpTrace.Watch watch = trace.watch(side(), filter, CAPACITY)) {
      while (System.nanoTime() < deadline && (count == 0 || printed < count)) {
        long left = Math.max(1, Math.min(500_000_000L, deadline - System.nanoTime()));
        List<TraceEvent> events = watch.poll(Duration.ofNanos(left));
        long dropped = watch.dropped();
        if (dropped > 0) {
          out().println("(" + dropped + " lines skipped: the console fell behind)");
        }
        for (TraceEvent event : events) {
          if (count > 0 && printed >= count) {
            break;
          }
          out().println(event.line());
          printed++;
        }
        if (out().checkError()) {
          break; // the console went away: stop watching, publishers go back to doing nothing
        }
      }
    }
    return null;
  }

  /** A pattern with {@code *} for any characters, matched whole and without regard to case. */
  static Predicate<String> glob(String pattern) {
    List<String> parts = new java.util.ArrayList<>();
    for (String part : pattern.split("\\*", -1)) {
      parts.add(Pattern.quote(part));
    }
    Pattern compiled = Pattern.compile(String.join(".*", parts), Pattern.CASE_INSENSITIVE);
    return text -> text != null && compiled.matcher(text).matches();
  }

  static String lower(String text) {
    return text == null ? null : text.trim().toLowerCase(Locale.ROOT);
  }
}
