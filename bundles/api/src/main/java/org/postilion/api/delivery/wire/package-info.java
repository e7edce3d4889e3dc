/** The SMTP family's wire format (SMTP, LMTP), shared by the delivery protocols that speak it. */
package org.postilion.api.delivery.wire;
