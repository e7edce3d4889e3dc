/** The spool SPI: durable message storage. */
package org.postilion.api.spool;
