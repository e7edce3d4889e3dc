package org.postilion.api.delivery;

import java.io.IOException;
import java.io.InputStream;

/** The RFC 5322 bytes of a spooled message, read from the spool on demand. */
public interface MessageContent {

  /** A fresh stream over the whole message; the caller closes it. */
  InputStream open() throws IOException;

  /** The size in bytes. */
  long size();
}
