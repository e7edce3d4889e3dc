package org.postilion.api.delivery;

/**
 * A reply from the far side of a delivery, or one the server made up for a local failure: an SMTP
 * style code (250, 451, 550...), the enhanced status code when there is one, and the text.
 *
 * @param command the command line the reply answered, as KumoMTA records it with its CRLF ({@code
 *     "RCPT TO:<a@example.com>\r\n"}, {@code ".\r\n"} for the end of the message), or {@code null}
 */
public record Response(int code, String enhancedCode, String content, String command)
    implements java.io.Serializable {

  public static Response of(int code, String enhancedCode, String content) {
    return new Response(code, enhancedCode, content, null);
  }

  /** The same reply, as the answer to {@code verb}. */
  public Response to(String verb) {
    return new Response(code, enhancedCode, content, verb);
  }

  public boolean isPermanentFailure() {
    return code >= 500;
  }

  public boolean isTransientFailure() {
    return code >= 400 && code < 500;
  }

  @Override
  public String toString() {
    return enhancedCode == null || enhancedCode.isEmpty()
        ? code + " " + content
        : code + " " + enhancedCode + " " + content;
  }
}
