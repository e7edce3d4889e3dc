package org.postilion.queue.manager;

/**
 * A wait that an interrupt must not cut short: a ready queue's threads are interrupted to wake them
 * from their own waits when the queue closes, and what such a thread did meanwhile must still be
 * booked. The interrupt is kept for the caller, not obeyed.
 */
final class ThroughInterrupts {
  private ThroughInterrupts() {}

  /** One try of a wait, true once it is over. */
  interface Step<X extends Exception> {
    boolean done() throws InterruptedException, X;
  }

  /** Tries until done; an interrupt before or meanwhile is set again on return. */
  static <X extends Exception> void waitFor(Step<X> step) throws X {
    boolean interrupted = Thread.interrupted();
    try {
      while (true) {
        try {
          if (step.done()) {
            return;
          }
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
