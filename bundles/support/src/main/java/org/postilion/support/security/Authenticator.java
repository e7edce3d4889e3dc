package org.postilion.support.security;

import java.util.Optional;
import java.util.Set;

/** Checks a user name and password. May block. */
public interface Authenticator {

  /** The user's roles when the credentials are right, empty when they are not. */
  Optional<Set<String>> authenticate(String user, String password);
}
