/** Event records: what happened to each message and recipient. */
package org.postilion.api.event;
