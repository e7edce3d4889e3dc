package org.postilion.delivery.webhook;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
import org.postilion.api.net.HttpHeaders;
import org.postilion.api.queue.Durations;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.route.EndpointRequests;

/**
 * {@code protocol = webhook}: POSTs each message, through Camel's http component, to the queue
 * configuration's {@code webhook.url}, as the raw RFC 5322 message ({@code webhook.format = raw},
 * the default) or as JSON ({@code json}: envelope, headers, text and HTML, attachments in base64).
 * A 2xx answer is a delivery; 408, 429, 5xx, a timeout or no answer are transient failures; any
 * other status is permanent. The status and the start of the answer's body go into the record.
 */
@Component(property = DeliveryProtocol.PROTOCOL + "=webhook")
public class WebhookProtocol implements DeliveryProtocol {
  static final String URL = "webhook.url";
  static final String FORMAT = "webhook.format";
  static final String HEADERS = "webhook.headers";
  static final String BEARER = "webhook.auth.bearer";
  static final String USER = "webhook.auth.user";
  static final String PASSWORD = "webhook.auth.password";
  static final String TIMEOUT = "webhook.timeout";
  private static final int SNIPPET = 200;

  /**
   * The {@code webhook.*} keys of a queue file, checked by the queue manager when it is written.
   */
  static final List<ProtocolKey> KEYS =
      List.of(
          new ProtocolKey(
              URL,
              "URL",
              "",
              "http:// or https:// address each message is POSTed to (required)",
              WebhookProtocol::target),
          ProtocolKey.oneOf(
              FORMAT, "raw", "raw: the message as message/rfc822; json: parsed", "raw", "json"),
          new ProtocolKey(
              HEADERS,
              "headers",
              "",
              "extra request headers: Name: value; Name: value",
              HttpHeaders::parse),
          ProtocolKey.text(BEARER, "", "token sent as Authorization: Bearer"),
          ProtocolKey.text(USER, "", "user for HTTP Basic authentication"),
          ProtocolKey.text(PASSWORD, "", "password for HTTP Basic authentication"),
          ProtocolKey.duration(TIMEOUT, "30s", "time to wait for the answer"));

  /** Requests through the Camel runtime (its http component). */
  @Reference private EndpointRequests endpoints;

  /** Longest wait for an outcome before the attempt fails transiently. */
  private static final java.time.Duration OUTCOME_LIMIT = java.time.Duration.ofMinutes(10);

  @Override
  public List<ProtocolKey> keys() {
    return KEYS;
  }

  /** The endpoint of {@code webhook.url}; the key's check when a file is written, and each use. */
  private static URI target(String url) {
    URI target = URI.create(url.trim());
    if (target.getHost() == null
        || !("http".equalsIgnoreCase(target.getScheme())
            || "https".equalsIgnoreCase(target.getScheme()))) {
      throw new IllegalArgumentException("not an http:// or https:// URL with a host: " + url);
    }
    return target;
  }

  /** The site is the URL's host and port: endpoints on one server share its connection limit. */
  @Override
  public CompletionStage<Site> resolve(QueueConfig config, String domain, EgressSource source) {
    String url = config.property(URL);
    if (url == null || url.isBlank()) {
      return CompletableFuture.failedFuture(
          new DeliveryException(
              Response.of(
                  451, "4.3.5", URL + " is not set in queue configuration " + config.source())));
    }
    try {
      URI target = target(url);
      int port =
          target.getPort() > 0 ? target.getPort() : "https".equals(target.getScheme()) ? 443 : 80;
      return CompletableFuture.completedFuture(Site.named(target.getHost() + ":" + port));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(
          new DeliveryException(transientFailure("4.3.5", URL + " is not a URL: " + url)));
    }
  }

  /** Camel's http component keeps the connections; a session only waits for each answer. */
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
    QueueConfig config = request.config();
    String url = config.property(URL);
    if (url == null || url.isBlank()) {
      return CompletableFuture.completedFuture(DeliveryResult.missingKey(request, URL));
    }
    URI target;
    try {
      target = target(url);
    } catch (IllegalArgumentException e) {
      return done(request, transientFailure("4.3.5", URL + " is not a URL: " + url), null);
    }
    PeerAddress peer = new PeerAddress(target.getHost(), target.toString());
    boolean json = "json".equalsIgnoreCase(String.valueOf(config.property(FORMAT)).trim());
    Duration timeout;
    byte[] body;
    try (InputStream in = request.content().open()) {
      timeout = Durations.parse(config.properties().getOrDefault(TIMEOUT, "30s"));
      byte[] content = in.readAllBytes();
      body =
          json
              ? JsonMessage.of(request.messageId(), request.sender(), request.recipients(), content)
              : content;
    } catch (IOException | IllegalArgumentException e) {
      return done(
          request,
          transientFailure("4.3.0", "cannot prepare the request: " + e.getMessage()),
          peer);
    }
    String endpoint =
        target
            + (target.getRawQuery() == null ? "?" : "&")
            + "httpMethod=POST&throwExceptionOnFailure=false";
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", json ? "application/json" : "message/rfc822");
    headers.put("X-Postilion-Message-Id", request.messageId());
    headers.put("X-Postilion-Sender", request.sender());
    headers.put("X-Postilion-Recipients", String.join(",", request.recipients()));
    String authorization =
        HttpHeaders.authorization(
            config.property(BEARER), config.property(USER), config.property(PASSWORD));
    if (authorization != null) {
      headers.put("Authorization", authorization);
    }
    headers.putAll(HttpHeaders.parse(config.property(HEADERS)));
    return endpoints
        .request(endpoint, headers, body)
        .toCompletableFuture()
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((reply, failure) -> result(request, reply, failure, peer, timeout));
  }

  private static DeliveryResult result(
      DeliveryRequest request,
      EndpointRequests.Reply reply,
      Throwable failure,
      PeerAddress peer,
      Duration timeout) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    if (cause instanceof TimeoutException) {
      return DeliveryResult.forAll(
          request,
          Disposition.TRANSIENT_FAILURE,
          transientFailure("4.4.1", "no answer within " + timeout),
          peer);
    }
    if (cause != null) {
      return DeliveryResult.forAll(
          request,
          Disposition.TRANSIENT_FAILURE,
          transientFailure("4.4.1", "request failed: " + cause.getMessage()),
          peer);
    }
    int status = reply.httpStatus();
    String answer = reply.body();
    String text = "HTTP " + status + snippet(answer);
    if (status / 100 == 2) {
      return DeliveryResult.forAll(
          request, Disposition.DELIVERED, Response.of(250, "2.0.0", text), peer);
    }
    if (status == 408 || status == 429 || status / 100 == 5 || status == 0) {
      return DeliveryResult.forAll(
          request, Disposition.TRANSIENT_FAILURE, transientFailure("4.4.0", text), peer);
    }
    return DeliveryResult.forAll(
        request, Disposition.PERMANENT_FAILURE, Response.of(550, "5.0.0", text), peer);
  }

  private static String snippet(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    String line = body.strip().replaceAll("\\s+", " ");
    return ": " + (line.length() > SNIPPET ? line.substring(0, SNIPPET) + "..." : line);
  }

  private static Response transientFailure(String enhanced, String text) {
    return Response.of(451, enhanced, text);
  }

  private static CompletionStage<DeliveryResult> done(
      DeliveryRequest request, Response response, PeerAddress peer) {
    return CompletableFuture.completedFuture(
        DeliveryResult.forAll(request, Disposition.TRANSIENT_FAILURE, response, peer));
  }
}
