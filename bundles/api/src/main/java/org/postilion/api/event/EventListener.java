package org.postilion.api.event;

/**
 * Receives every event record. Register implementations as services (whiteboard); each is called on
 * a thread of its own, in record order, and must never throw.
 *
 * <p>A listener with the service property {@value #SUBSCRIBER} is durable: records made while it is
 * away (its bundle stopped, updated or not yet started) wait for it, across restarts, and it reads
 * them when it returns. For a factory component the configuration's name (after the {@code ~} of
 * its PID) is added to the value, so that each instance has records of its own.
 */
public interface EventListener {

  /** The service property that names a durable listener. */
  String SUBSCRIBER = "event.subscriber";

  void onEvent(EventRecord record);
}
