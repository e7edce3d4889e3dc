package org.postilion.api.route;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Sends a message to an endpoint URI of the Camel runtime (for example {@code https://...} through
 * camel-http) and gives back what the endpoint answered. Offered by the Camel bundle as a service.
 */
public interface EndpointRequests {

  /**
   * Sends {@code body} with {@code headers} to {@code uri}, asynchronously.
   *
   * @return the reply; completes exceptionally when the endpoint failed (no answer, refused
   *     connection, an exception in a route)
   */
  CompletionStage<Reply> request(String uri, Map<String, String> headers, byte[] body);

  /**
   * What the endpoint answered.
   *
   * @param headers the reply's headers, as Camel names them (an HTTP status is in {@link
   *     #HTTP_STATUS})
   * @param body the reply's body as text, or null when it had none
   */
  record Reply(Map<String, Object> headers, String body) {
    /** The header holding the status of an HTTP answer (Camel's {@code CamelHttpResponseCode}). */
    public static final String HTTP_STATUS = "CamelHttpResponseCode";

    public Reply {
      // Camel allows headers without a value; an immutable map does not.
      Map<String, Object> present = new java.util.HashMap<>();
      headers.forEach(
          (name, value) -> {
            if (name != null && value != null) {
              present.put(name, value);
            }
          });
      headers = Map.copyOf(present);
    }

    /** The HTTP status, or 0 when the endpoint gave none. */
    public int httpStatus() {
      Object status = headers.get(HTTP_STATUS);
      if (status instanceof Number number) {
        return number.intValue();
      }
      try {
        return status == null ? 0 : Integer.parseInt(status.toString().trim());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
  }
}
