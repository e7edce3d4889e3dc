package org.postilion.delivery.smtp;

import java.io.IOException;
import java.util.List;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.RecipientResult;
import org.postilion.api.delivery.Response;

/** One SMTP connection, carrying one transaction after another (RSET between them). */
final class SmtpSession implements DeliverySession {
  private final SmtpConnection connection;
  private volatile boolean broken;

  SmtpSession(SmtpConnection connection) {
    this.connection = connection;
  }

  @Override
  public DeliveryResult deliver(DeliveryRequest request) throws DeliveryException {
    MessageBytes content;
    try {
      content = MessageBytes.of(request);
    } catch (IOException e) {
      throw new DeliveryException(
          Response.of(451, "4.3.0", "cannot read the message: " + e.getMessage()), false, e);
    }
    try {
      List<RecipientResult> results = connection.send(request, content);
      return new DeliveryResult(
          results,
          connection.peer(),
          connection.tlsProtocol(),
          connection.tlsCipher(),
          connection.sourceAddress(),
          connection.tlsPeerSubject());
    } catch (SmtpConnection.ConnectionLost e) {
      broken = true;
      throw new DeliveryException(e.response(), e.beforeTransaction(), e);
    }
  }

  /** From an operator's thread: closing the socket fails the delivery blocked on it now. */
  @Override
  public void abort() {
    broken = true;
    connection.abort();
  }

  @Override
  public boolean isUsable() {
    return !broken;
  }

  @Override
  public void close() {
    if (broken) {
      connection.close();
    } else {
      connection.quit();
    }
  }
}
