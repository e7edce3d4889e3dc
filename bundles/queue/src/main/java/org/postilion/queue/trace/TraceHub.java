package org.postilion.queue.trace;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.osgi.service.component.annotations.Component;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.api.trace.TraceEvent;

/**
 * Carries transcript lines from the SMTP listeners and SMTP delivery to whoever watches. With no
 * watcher a publisher's check is one volatile read; with watchers, each event is offered to each
 * matching watcher's bounded queue and dropped (and counted) when it is full, so a slow console
 * never slows a session.
 */
@Component(service = SmtpTrace.class)
public class TraceHub implements SmtpTrace {
  private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
  private volatile boolean server;
  private volatile boolean client;

  @Override
  public boolean watching(TraceEvent.Side side) {
    return side == TraceEvent.Side.SERVER ? server : client;
  }

  @Override
  public void publish(TraceEvent event) {
    for (Watcher watcher : watchers) {
      watcher.offer(event);
    }
  }

  @Override
  public Watch watch(TraceEvent.Side side, Predicate<TraceEvent> filter, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be 1 or more: " + capacity);
    }
    Watcher watcher = new Watcher(side, filter, capacity);
    watchers.add(watcher);
    sides();
    return watcher;
  }

  /** Under the hub's lock, so that a watch and a close at once cannot leave a stale answer. */
  private synchronized void sides() {
    boolean s = false;
    boolean c = false;
    for (Watcher watcher : watchers) {
      s |= watcher.side == TraceEvent.Side.SERVER;
      c |= watcher.side == TraceEvent.Side.CLIENT;
    }
    server = s;
    client = c;
  }

  private final class Watcher implements Watch {
    private final TraceEvent.Side side;
    private final Predicate<TraceEvent> filter;
    private final BlockingQueue<TraceEvent> events;
    private final AtomicLong dropped = new AtomicLong();

    Watcher(TraceEvent.Side side, Predicate<TraceEvent> filter, int capacity) {
      this.side = side;
      this.filter = filter;
      this.events = new ArrayBlockingQueue<>(capacity);
    }

    void offer(TraceEvent event) {
      if (event.side() == side && filter.test(event) && !events.offer(event)) {
        dropped.incrementAndGet();
      }
    }

    @Override
    public List<TraceEvent> poll(Duration wait) throws InterruptedException {
      List<TraceEvent> out = new ArrayList<>();
      TraceEvent first = events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
      if (first != null) {
        out.add(first);
        events.drainTo(out);
      }
      return out;
    }

    @Override
    public long dropped() {
      return dropped.getAndSet(0);
    }

    @Override
    public void close() {
      watchers.remove(this);
      sides();
    }
  }
}
