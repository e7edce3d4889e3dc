package org.postilion.support.security;

import java.security.Principal;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.security.auth.Subject;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;

/** Checks a user name and password against a JAAS realm. Blocks: a hash is computed. */
public final class JaasAuthenticator implements Authenticator {
  private final String realm;

  public JaasAuthenticator(String realm) {
    this.realm = realm;
  }

  @Override
  public Optional<Set<String>> authenticate(String user, String password) {
    Subject subject = new Subject();
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    // LoginContext loads Karaf's proxy login module through the context class loader.
    thread.setContextClassLoader(JaasAuthenticator.class.getClassLoader());
    try {
      LoginContext login =
          new LoginContext(
              realm,
              subject,
              callbacks -> {
                for (var callback : callbacks) {
                  if (callback instanceof NameCallback name) {
                    name.setName(user);
                  } else if (callback instanceof PasswordCallback secret) {
                    secret.setPassword(password.toCharArray());
                  } else {
                    throw new UnsupportedCallbackException(callback);
                  }
                }
              });
      login.login();
    } catch (LoginException e) {
      return Optional.empty();
    } finally {
      thread.setContextClassLoader(previous);
    }
    return Optional.of(
        subject.getPrincipals(RolePrincipal.class).stream()
            .map(Principal::getName)
            .collect(Collectors.toUnmodifiableSet()));
  }
}
