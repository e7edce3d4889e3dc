package org.postilion.http.inject;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.postilion.api.concurrent.DaemonThreads;

/**
 * The threads that render and queue JSON injections, and the injections waiting for one. Jetty's
 * threads only read requests and hand them here, so however many slow templates arrive, Jetty has
 * threads left for liveness, the admin API and metrics, and the CPU is shared with SMTP by a known
 * number of threads. When the waiting line is full, the request is refused at once (503).
 */
final class RenderPool implements AutoCloseable {
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final ThreadPoolExecutor executor;

  /**
   * @param threads how many injections render at once
   * @param maxPending how many more may wait for a thread
   */
  RenderPool(int threads, int maxPending) {
    ThreadFactory factory = DaemonThreads.numbered("postilion-render-" + POOLS.incrementAndGet());
    BlockingQueue<Runnable> waiting =
        maxPending > 0 ? new ArrayBlockingQueue<>(maxPending) : new SynchronousQueue<>();
    executor =
        new ThreadPoolExecutor(
            threads,
            threads,
            30,
            TimeUnit.SECONDS,
            waiting,
            factory,
            new ThreadPoolExecutor.AbortPolicy());
    executor.allowCoreThreadTimeOut(true);
  }

  /** Runs {@code task} when a thread is free; {@code false} when too many wait already. */
  boolean offer(Runnable task) {
    try {
      executor.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Takes back a task that has not started. */
  void withdraw(Runnable task) {
    executor.remove(task);
  }

  /** Takes no more tasks; those accepted still run. */
  @Override
  public void close() {
    executor.shutdown();
  }
}
