package org.postilion.support.security;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Makes a failed check take as long as a real password check, so that the time of a refusal does
 * not tell an unknown user (refused at once) from a wrong password (refused after the hash). The
 * typical time of a hash is learned from the checks that ran one.
 */
public final class EvenTimeAuthenticator implements Authenticator {
  private final Authenticator delegate;
  private volatile long typicalNanos;

  /**
   * @param initial what a hash is taken to cost until one has been timed
   */
  public EvenTimeAuthenticator(Authenticator delegate, Duration initial) {
    this.delegate = delegate;
    this.typicalNanos = initial.toNanos();
  }

  @Override
  public Optional<Set<String>> authenticate(String user, String password) {
    long start = System.nanoTime();
    Optional<Set<String>> roles = delegate.authenticate(user, password);
    long elapsed = System.nanoTime() - start;
    long typical = typicalNanos;
    if (elapsed > typical / 2) {
      // A check that ran the hash: it tells what the hash costs now (a moving average).
      typicalNanos = typical + (Math.min(elapsed, 4 * typical + 1) - typical) / 4;
    }
    if (roles.isEmpty()) {
      long jitter = ThreadLocalRandom.current().nextLong(Math.max(1, typical / 20));
      long left = typical + jitter - elapsed;
      long deadline = System.nanoTime() + left;
      while (left > 0) {
        LockSupport.parkNanos(left);
        left = deadline - System.nanoTime();
      }
    }
    return roles;
  }

  /** What a hash is taken to cost now. */
  public Duration typical() {
    return Duration.ofNanos(typicalNanos);
  }
}
