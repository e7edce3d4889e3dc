package org.postilion.api.trace;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * Live SMTP transcripts: listeners and SMTP delivery publish what they read and write while someone
 * watches ({@code mta:trace-smtp-server}, {@code mta:trace-smtp-client}), and nothing otherwise.
 * Publishing never blocks: each watcher has a bounded queue, and what does not fit is counted as
 * dropped.
 */
public interface SmtpTrace {

  /** Whether anyone watches that side: publishers check this before building an event. */
  boolean watching(TraceEvent.Side side);

  void publish(TraceEvent event);

  /**
   * Starts watching.
   *
   * @param filter which events the watcher gets
   * @param capacity events kept for it at most between polls
   */
  Watch watch(TraceEvent.Side side, Predicate<TraceEvent> filter, int capacity);

  /** One watcher's events; close it to stop. */
  interface Watch extends AutoCloseable {
    /** The events so far, waiting up to {@code wait} for the first one. */
    List<TraceEvent> poll(Duration wait) throws InterruptedException;

    /** Events that did not fit in the queue since the last call. */
    long dropped();

    @Override
    void close();
  }
}
