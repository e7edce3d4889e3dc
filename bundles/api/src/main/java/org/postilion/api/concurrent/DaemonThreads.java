package org.postilion.api.concurrent;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's own threads: daemons (a stopping framework is never held up by one) with names that
 * say whose they are in a thread dump, {@code postilion-...}.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A daemon thread running {@code task}, not started yet. */
  public static Thread of(String name, Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    return thread;
  }

  /** Makes daemon threads that all bear {@code name}: for a single-thread executor. */
  public static ThreadFactory named(String name) {
    return task -> of(name, task);
  }

  /** Makes daemon threads named {@code prefix-1}, {@code prefix-2}, ... */
  public static ThreadFactory numbered(String prefix) {
    AtomicInteger number = new AtomicInteger();
    return task -> of(prefix + "-" + number.incrementAndGet(), task);
  }
}
