package org.postilion.http.web;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap that requests in flight may take together. A request reserves as its body arrives and
 * releases when it is answered; one that cannot reserve is answered 503, so that many large
 * requests at once slow clients down instead of exhausting the heap.
 */
public final class MemoryBudget {
  private final AtomicLong used = new AtomicLong();
  private volatile long limit;

  public MemoryBudget(long limit) {
    this.limit = limit;
  }

  public void limit(long limit) {
    this.limit = limit;
  }

  /** A new, empty reservation; close it when the request is answered. */
  public Reservation open() {
    return new Reservation();
  }

  public long used() {
    return used.get();
  }

  /** What one request holds of the budget. */
  public final class Reservation implements AutoCloseable {
    private long held;

    /**
     * @throws RequestException 503 when the budget has no {@code bytes} left
     */
    public synchronized void grow(long bytes) throws RequestException {
      while (true) {
        long now = used.get();
        if (now + bytes > limit) {
          throw new RequestException(
              503, null, "the server is busy with other requests, try again later");
        }
        if (used.compareAndSet(now, now + bytes)) {
          held += bytes;
          return;
        }
      }
    }

    @Override
    public synchronized void close() {
      used.addAndGet(-held);
      held = 0;
    }
  }
}
