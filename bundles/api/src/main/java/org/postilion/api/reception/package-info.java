/** How an ingress hands messages over for queuing. */
package org.postilion.api.reception;
