package org.postilion.api.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class QueueNameTest {

  @Test
  void formatsAllPartsLikeKumoMta() {
    assertEquals(
        "spring:acme@example.com", QueueName.of("spring", "acme", "example.com").toString());
  }

  @Test
  void leavesOutUnsetPartsWithTheirSeparators() {
    assertEquals("acme@example.com", QueueName.of(null, "acme", "example.com").toString());
    assertEquals("spring:example.com", QueueName.of("spring", null, "example.com").toString());
    assertEquals("example.com", QueueName.of(null, null, "example.com").toString());
    assertEquals("example.com", QueueName.of(" ", "", "example.com").toString());
  }

  @Test
  void lowerCasesTheDomainOnly() {
    assertEquals(
        "Spring:Acme@example.com", QueueName.of("Spring", "Acme", "EXAMPLE.com").toString());
  }

  @Test
  void parsesWhatItFormats() {
    for (String name :
        new String[] {
          "spring:acme@example.com", "acme@example.com", "spring:example.com", "d.org"
        }) {
      assertEquals(name, QueueName.parse(name).toString());
    }
    QueueName parsed = QueueName.parse("spring:acme@example.com");
    assertEquals("spring", parsed.campaign());
    assertEquals("acme", parsed.tenant());
    assertEquals("example.com", parsed.domain());
  }

  @Test
  void refusesANameWithoutDomain() {
    assertThrows(IllegalArgumentException.class, () -> QueueName.parse("spring:acme@"));
  }
}
