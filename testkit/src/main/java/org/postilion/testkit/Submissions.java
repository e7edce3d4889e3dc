package org.postilion.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.reception.Submission;

/** Keeping what a fake reception was given: an ingress frees its buffer once receive returns. */
public final class Submissions {
  private Submissions() {}

  /** The submission with its bytes copied to the heap, to look at after receive returned. */
  public static Submission kept(Submission submission) {
    return new Submission(
        submission.sender(),
        submission.recipients(),
        MessageContent.of(bytes(submission.content())),
        submission.receptionProtocol(),
        submission.peerAddress(),
        submission.tenant(),
        submission.heloName(),
        submission.tlsProtocol(),
        submission.tlsCipher(),
        submission.sessionId());
  }

  /** All the bytes of {@code content}. */
  public static byte[] bytes(MessageContent content) {
    try (InputStream in = content.open()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
