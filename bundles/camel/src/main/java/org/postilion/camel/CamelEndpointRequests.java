package org.postilion.camel;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.camel.ProducerTemplate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postilion.api.route.EndpointRequests;

/** {@link EndpointRequests} on the runtime's shared producer template. */
@Component(service = EndpointRequests.class)
public class CamelEndpointRequests implements EndpointRequests {

  @Reference private ProducerTemplate producer;

  @Override
  public CompletionStage<Reply> request(String uri, Map<String, String> headers, byte[] body) {
    return producer
        .asyncSend(
            uri,
            exchange -> {
              var message = exchange.getMessage();
              message.setBody(body);
              headers.forEach(message::setHeader);
            })
        .thenCompose(
            exchange ->
                exchange.getException() != null
                    ? CompletableFuture.failedFuture(exchange.getException())
                    : CompletableFuture.completedFuture(
                        new Reply(
                            exchange.getMessage().getHeaders(),
                            exchange.getMessage().getBody(String.class))));
  }
}
