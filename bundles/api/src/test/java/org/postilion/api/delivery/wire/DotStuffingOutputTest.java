package org.postilion.api.delivery.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DotStuffingOutputTest {

  private static String stuff(String content, boolean oneByteAtATime) throws Exception {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    DotStuffingOutput out = new DotStuffingOutput(sink);
    byte[] bytes = content.getBytes(StandardCharsets.ISO_8859_1);
    if (oneByteAtATime) {
      for (byte b : bytes) {
        out.write(b);
      }
    } else {
      out.write(bytes, 0, bytes.length);
    }
    out.finish();
    return sink.toString(StandardCharsets.ISO_8859_1);
  }

  @Test
  void doublesLeadingDotsAndEndsTheData() throws Exception {
    for (boolean single : new boolean[] {true, false}) {
      assertEquals("..a\r\nb.c\r\n...\r\n.\r\n", stuff(".a\r\nb.c\r\n..\r\n", single));
      assertEquals("x\r\n.\r\n", stuff("x", single), "a missing final CRLF is added");
      assertEquals("a\r\n..b\r\nc\r\n.\r\n", stuff("a\n.b\nc\n", single), "bare LF becomes CRLF");
      assertEquals(".\r\n", stuff("", single));
    }
  }

  /** Line ends and leading dots split across writes are seen as if written at once. */
  @Test
  void stateCarriesAcrossWrites() throws Exception {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    DotStuffingOutput out = new DotStuffingOutput(sink);
    for (String part : new String[] {"a\r", "\n", ".b", "\n", "", "c.", "\r\n.", ".d\n"}) {
      byte[] bytes = part.getBytes(StandardCharsets.ISO_8859_1);
      out.write(bytes, 0, bytes.length);
    }
    out.finish();
    assertEquals("a\r\n..b\r\nc.\r\n...d\r\n.\r\n", sink.toString(StandardCharsets.ISO_8859_1));
  }
}
