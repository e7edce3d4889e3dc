/**
 * Requests to endpoints of the embedded Camel runtime, for bundles that must not depend on Camel's
 * own packages (the Camel bundle keeps them private).
 */
package org.postilion.api.route;
