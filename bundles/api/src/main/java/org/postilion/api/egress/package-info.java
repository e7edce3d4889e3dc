/** Egress sources: the local address and EHLO name a delivery leaves from. */
package org.postilion.api.egress;
