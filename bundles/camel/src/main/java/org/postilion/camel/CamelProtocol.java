package org.postilion.camel;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postilion.api.delivery.DeliveryException;
import org.postilion.api.delivery.DeliveryProtocol;
import org.postilion.api.delivery.DeliveryRequest;
import org.postilion.api.delivery.DeliveryResult;
import org.postilion.api.delivery.DeliverySession;
import org.postilion.api.delivery.Disposition;
import org.postilion.api.delivery.PeerAddress;
import org.postilion.api.delivery.ProtocolKey;
import org.postilion.api.delivery.Response;
import org.postilion.api.delivery.Site;
import org.postilion.api.egress.EgressSource;
import org.postilion.api.queue.QueueConfig;

/**
 * {@code protocol = camel}: hands each message to the route at the queue configuration's {@code
 * camel.uri} (e.g. {@code direct:my-delivery}), like KumoMTA's custom protocols. The body is the
 * message bytes, the envelope is in headers ({@code message_id}, {@code sender}, {@code
 * recipients}, {@code queue}, {@code tenant}, {@code campaign}, {@code attempt}). The route
 * completing normally is a delivery; an exception is a transient failure; a {@code failure} header
 * ("550 5.1.1 text" or "451 4.4.1 text") is that failure, permanent for a 5xx code.
 */
@Component(property = DeliveryProtocol.PROTOCOL + "=camel")
public class CamelProtocol implements DeliveryProtocol {
  static final String URI_KEY = "camel.uri";

  /** The {@code camel.*} key of a queue file, checked by the queue manager when it is written. */
  static final List<ProtocolKey> KEYS =
      List.of(
          ProtocolKey.text(
              URI_KEY, "", "endpoint of the route each message is handed to, e.g. direct:deliver"));

  /** The runtime's shared template, which also names the context. */
  @Reference private ProducerTemplate producer;

  /** Longest wait for an outcome before the attempt fails transiently. */
  private static final java.time.Duration OUTCOME_LIMIT = java.time.Duration.ofMinutes(10);

  @Override
  public List<ProtocolKey> keys() {
    return KEYS;
  }

  /** The site is the route: each endpoint gets a ready queue and limits of its own. */
  @Override
  public CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source) {
    String uri = config.property(URI_KEY);
    if (uri == null || uri.isBlank()) {
      return CompletableFuture.failedFuture(
          new DeliveryException(
              Response.of(
                  451,
                  "4.3.5",
                  URI_KEY + " is not set in queue configuration " + config.source())));
    }
    return CompletableFuture.completedFuture(Site.named("camel:" + uri.trim()));
  }

  /** A session waits for the route to finish each message, on the ready queue's thread. */
  @Override
  public DeliverySession open(Site site, EgressSource source) {
    return new DeliverySession() {
      @Override
      public DeliveryResult deliver(DeliveryRequest request) throws DeliveryException {
        return DeliverySession.await(send(request), OUTCOME_LIMIT);
      }

      @Override
      public void close() {}
    };
  }

  CompletionStage<DeliveryResult> send(DeliveryRequest request) {
    String uri = request.config().property(URI_KEY);
    if (uri == null || uri.isBlank()) {
      return CompletableFuture.completedFuture(DeliveryResult.missingKey(request, URI_KEY));
    }
    byte[] content;
    try (InputStream in = request.content().open()) {
      content = in.readAllBytes();
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    PeerAddress peer = new PeerAddress(uri, null);
    return producer
        .asyncSend(
            uri.trim(),
            exchange -> {
              var message = exchange.getMessage();
              message.setBody(content);
              message.setHeader("message_id", request.messageId());
              message.setHeader("sender", request.sender());
              message.setHeader("recipients", request.recipients());
              message.setHeader("queue", request.queue().toString());
              message.setHeader("tenant", request.queue().tenant());
              message.setHeader("campaign", request.queue().campaign());
              message.setHeader("attempt", request.attempt());
            })
        .thenApply(exchange -> result(request, exchange, peer));
  }

  private static DeliveryResult result(
      DeliveryRequest request, Exchange exchange, PeerAddress peer) {
    if (exchange.getException() != null) {
      Exception e = exchange.getException();
      return DeliveryResult.forAll(
          request,
          Disposition.TRANSIENT_FAILURE,
          Response.of(451, "4.4.0", "route failed: " + e.getMessage()),
          peer);
    }
    Object failure = exchange.getMessage().getHeader("failure");
    if (failure != null && !failure.toString().isBlank()) {
      Response response = ReceptionRoute.reply(failure.toString(), 451, "4.4.0");
      return DeliveryResult.forAll(
          request,
          response.code() >= 500 ? Disposition.PERMANENT_FAILURE : Disposition.TRANSIENT_FAILURE,
          response,
          peer);
    }
    return DeliveryResult.forAll(
        request,
        Disposition.DELIVERED,
        Response.of(250, "2.0.0", "delivered to " + peer.name()),
        peer);
  }
}
