package org.postilion.queue.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.reception.ReceptionException;

class MessageHeadTest {
  private static String head(String message) throws ReceptionException {
    return new String(
        MessageHead.read(MessageContent.of(message.getBytes(StandardCharsets.ISO_8859_1))),
        StandardCharsets.ISO_8859_1);
  }

  @Test
  void endsAfterTheBlankLine() throws ReceptionException {
    assertEquals("A: 1\r\nB: 2\r\n\r\n", head("A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore\r\n"));
    assertEquals("A: 1\r\n", head("A: 1\r\n"));
    assertEquals("\r\n", head("\r\nbody only\r\n"));
    assertEquals("", head(""));
  }

  @Test
  void findsTheBlankLineAcrossReadBoundaries() throws ReceptionException {
    String fields = "X: " + "y".repeat(8185) + "\r\n"; // the CRLF CRLF straddles 8192 bytes
    assertEquals(fields + "\r\n", head(fields + "\r\nbody"));
  }

  @Test
  void refusesAHugeHeaderSection() {
    String fields = ("X: " + "y".repeat(995) + "\r\n").repeat(1100);
    ReceptionException e = assertThrows(ReceptionException.class, () -> head(fields + "\r\nb"));
    assertEquals(552, e.response().code());
  }
}
