/** The operator's view of the queues and the actions on them, for the shell and the HTTP API. */
package org.postilion.api.admin;
