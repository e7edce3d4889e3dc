package org.postilion.delivery.maildir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postilion.api.queue.QueueName;

class MaildirPathTest {
  @TempDir Path root;

  private static final List<String> ORDERS =
      List.of(
          "{user}",
          "{domain}/{user}",
          "{tenant}/{campaign}/{user}",
          "{campaign}/{tenant}/{domain}/{user}",
          "{user}/{tenant}/{campaign}",
          "{domain}{user}{tenant}{campaign}",
          "x{tenant}{campaign}/{user}");

  /** The reported attack: a value carrying a placeholder that a later step would fill. */
  @Test
  void aValueIsNeverReadAsAPlaceholderInAnyOrder() {
    QueueName queue = new QueueName("..", "..{campaign}", "local2.test");
    for (String order : ORDERS) {
      for (String recipient :
          List.of("{tenant}@local2.test", "{campaign}@local2.test", "{domain}@local2.test")) {
        String template = root + "/maildir2/" + order;
        assertThrows(
            IllegalArgumentException.class,
            () -> MaildirPath.expand(template, recipient, queue),
            template + " with " + recipient);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "..@x.test",
        ".@x.test",
        ".hidden@x.test",
        "a/b@x.test",
        "a\\\\b@x.test",
        "\"../..\"@x.test",
        "\"a/b\"@x.test",
        "a\u0000b@x.test",
        "a\nb@x.test",
        "@x.test"
      })
  void refusesMailboxNamesThatAreNotPlainFolderNames(String recipient) {
    for (String order : ORDERS) {
      String template = root + "/" + order;
      assertThrows(
          IllegalArgumentException.class,
          () -> MaildirPath.expand(template, recipient, QueueName.of("c", "t", "x.test")),
          template + " with " + recipient);
    }
  }

  @Test
  void valuesThatMakeDotDotTogetherAreRefused() {
    // Neither value alone is '..', but side by side they would be.
    assertEquals(
        root.resolve("yx/u"),
        MaildirPath.expand(
            root + "/{tenant}{campaign}/{user}", "u@x.test", QueueName.of("x", "y", "x.test")));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            MaildirPath.expand(
                root + "/a/{tenant}{campaign}", "u@x.test", QueueName.of(".", ".", "x.test")));
  }

  @Test
  void expandsOrdinaryValuesUnderTheRoot() {
    Path path =
        MaildirPath.expand(
            root + "/mail/{tenant}/{campaign}/{domain}/{user}",
            "Bob.Smith+tag@Example.COM",
            QueueName.of("spring", "acme", "example.com"));
    assertEquals(root.resolve("mail/acme/spring/example.com/Bob.Smith+tag"), path);
  }

  @Test
  void aQuotedLocalPartNamesTheFolderWithoutItsQuotes() {
    Path path =
        MaildirPath.expand(
            root + "/{user}", "\"john \\\"j\\\" doe\"@x.test", QueueName.of(null, null, "x"));
    assertEquals(root.resolve("john \"j\" doe"), path);
  }

  @Test
  void anEmptyOptionalValueMayNotLeaveTheRootEither() {
    Path path =
        MaildirPath.expand(root + "/{tenant}/{user}", "u@x.test", QueueName.of(null, null, "x"));
    assertTrue(path.startsWith(root));
    assertEquals(root.resolve("u"), path);
  }

  @Test
  void templateMistakesAreRefusedAsSuch() {
    assertThrows(IllegalArgumentException.class, () -> MaildirPath.root(root + "/{nobody}"));
    assertThrows(IllegalArgumentException.class, () -> MaildirPath.root(root + "/{user"));
    assertThrows(IllegalArgumentException.class, () -> MaildirPath.root(root + "/../{user}"));
    assertThrows(IllegalArgumentException.class, () -> MaildirPath.root(root + "/user}"));
  }
}
