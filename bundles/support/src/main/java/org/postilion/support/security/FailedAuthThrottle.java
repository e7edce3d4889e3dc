package org.postilion.support.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed AUTH attempts per client address over a sliding window. Each failure slows the next
 * reply to that address down a little more; past the limit, AUTH is refused outright until old
 * failures leave the window (as Postfix's anvil and fail2ban-style jails do).
 */
public final class FailedAuthThrottle {
  private final int maxFailures;
  private final Duration window;
  private final Duration stepDelay;
  private final Clock clock;
  private final Map<String, Deque<Instant>> failures = new ConcurrentHashMap<>();

  public FailedAuthThrottle(int maxFailures, Duration window, Duration stepDelay, Clock clock) {
    this.maxFailures = maxFailures;
    this.window = window;
    this.stepDelay = stepDelay;
    this.clock = clock;
  }

  /** True when the address has used up its failures and may not try again yet. */
  public boolean locked(String address) {
    return recent(address) >= maxFailures;
  }

  /** Records a failure; returns how long to hold back the reply to it. */
  public Duration failed(String address) {
    Instant now = clock.instant();
    Deque<Instant> times = failures.computeIfAbsent(address, a -> new ArrayDeque<>());
    int count;
    synchronized (times) {
      times.addLast(now);
      prune(times, now);
      count = times.size();
    }
    return stepDelay.multipliedBy(Math.min(count, maxFailures));
  }

  private int recent(String address) {
    Deque<Instant> times = failures.get(address);
    if (times == null) {
      return 0;
    }
    synchronized (times) {
      prune(times, clock.instant());
      if (times.isEmpty()) {
        failures.remove(address, times);
      }
      return times.size();
    }
  }

  private void prune(Deque<Instant> times, Instant now) {
    Instant oldest = now.minus(window);
    while (!times.isEmpty() && times.peekFirst().isBefore(oldest)) {
      times.removeFirst();
    }
  }

  /** Forgets addresses whose failures have all left the window; call now and then. */
  public void expire() {
    failures.keySet().forEach(this::recent);
  }
}
