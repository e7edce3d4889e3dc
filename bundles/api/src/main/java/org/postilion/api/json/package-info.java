/**
 * The one JSON writer of the server: event records, {@code mta:* --json} and the HTTP API's answers
 * all write through it, so that one object has one set of field names everywhere.
 */
package org.postilion.api.json;
