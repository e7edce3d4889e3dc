package org.postilion.api.delivery;

/**
 * Who answered a delivery attempt or sent a message: a host name and its IP address (either may be
 * null), or for local delivery a path as the name.
 */
public record PeerAddress(String name, String addr) implements java.io.Serializable {

  @Override
  public String toString() {
    if (name == null) {
      return String.valueOf(addr);
    }
    return addr == null ? name : name + "[" + addr + "]";
  }
}
