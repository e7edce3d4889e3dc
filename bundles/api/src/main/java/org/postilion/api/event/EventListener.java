package org.postilion.api.event;

/**
 * Receives every event record. Register implementations as services (whiteboard); they are called
 * on the thread that made the change, so they must return quickly and never throw.
 */
public interface EventListener {

  void onEvent(EventRecord record);
}
