package org.postilion.http.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postilion.support.security.Authenticator;
import org.postilion.testkit.TypedConfig;

class AccessPolicyTest {
  @TempDir Path folder;

  /**
   * Like Karaf's properties realm: an unknown user is refused at once, a known one after a hash.
   */
  private static final Authenticator REALM =
      (user, password) -> {
        if (!user.equals("alice")) {
          return Optional.empty();
        }
        try {
          Thread.sleep(60);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return password.equals("s3cret") ? Optional.of(Set.of("tenant.acme")) : Optional.empty();
      };

  private AccessPolicy policy(int maxFailures) {
    AccessPolicy policy = new AccessPolicy();
    policy.configure(
        TypedConfig.of(
            AccessPolicy.Config.class,
            Map.of(
                "api_keys",
                folder.resolve("keys.properties").toString(),
                "auth.max_failures",
                maxFailures,
                "auth.failure_window",
                60)));
    policy.realm(
        new org.postilion.support.security.EvenTimeAuthenticator(
            REALM, java.time.Duration.ofMillis(60)));
    return policy;
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  private static long millis(Runnable check) {
    long start = System.nanoTime();
    check.run();
    return (System.nanoTime() - start) / 1_000_000;
  }

  @Test
  void anUnknownUserIsRefusedNoFasterThanAWrongPassword() {
    AccessPolicy policy = policy(1000);
    long unknown = 0;
    long wrong = 0;
    for (int i = 0; i < 5; i++) {
      unknown += millis(() -> policy.check(basic("mallory", "x"), "192.0.2.1"));
      wrong += millis(() -> policy.check(basic("alice", "wrong"), "192.0.2.1"));
    }
    assertTrue(unknown >= 5 * 55, "unknown users took " + unknown + " ms for 5");
    assertTrue(Math.abs(unknown - wrong) < 5 * 25, "unknown " + unknown + " ms, wrong " + wrong);
  }

  @Test
  void anAddressThatFailsTooOftenIsLockedOutWhileOthersGoOn() {
    AccessPolicy policy = policy(3);
    for (int i = 0; i < 3; i++) {
      AccessPolicy.Verdict verdict = policy.check(basic("alice", "guess" + i), "192.0.2.9");
      assertFalse(verdict.locked());
      assertEquals(null, verdict.identity());
    }
    // Even the right password is not looked at now: guessing has stopped paying.
    assertTrue(policy.check(basic("alice", "s3cret"), "192.0.2.9").locked());
    AccessPolicy.Verdict other = policy.check(basic("alice", "s3cret"), "192.0.2.10");
    assertNotNull(other.identity());
    assertEquals("acme", other.identity().tenant());
    assertEquals(60, policy.lockout().toSeconds());
  }
}
