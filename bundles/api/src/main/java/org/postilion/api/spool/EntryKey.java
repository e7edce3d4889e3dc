package org.postilion.api.spool;

/** Identifies one recipient of one spooled message. */
public record EntryKey(String messageId, int index) {

  @Override
  public String toString() {
    return messageId + "/" + index;
  }
}
