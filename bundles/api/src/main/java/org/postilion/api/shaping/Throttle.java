package org.postilion.api.shaping;

/**
 * Spaces events evenly at a {@link Rate}: {@code 100/s} lets one through every 10 ms, never a
 * burst, so a receiver that counts per second never sees more than it allowed. Callers reserve the
 * next slot and wait until it comes, so concurrent callers queue up fairly instead of polling.
 * Thread-safe.
 */
public final class Throttle {
  private Rate rate;
  private long intervalNanos;

  /** When the next slot is free, on the {@link System#nanoTime()} scale. */
  private long nextFree;

  private boolean started;

  public Throttle(Rate rate) {
    setRate(rate);
  }

  /** Changes the rate; slots already handed out stay as they were. */
  public synchronized void setRate(Rate rate) {
    this.rate = rate;
    this.intervalNanos = rate.intervalNanos();
  }

  public synchronized Rate rate() {
    return rate;
  }

  /**
   * Takes the next slot.
   *
   * @param now the current {@link System#nanoTime()}
   * @return nanoseconds to wait before the event may happen; 0 to go at once
   */
  public synchronized long reserve(long now) {
    if (!started || nextFree - now < 0) {
      nextFree = now;
      started = true;
    }
    long slot = nextFree;
    nextFree += intervalNanos;
    return Math.max(0, slot - now);
  }
}
