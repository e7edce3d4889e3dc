/** TLS credentials from PEM files, shared by the SMTP and HTTP listeners. */
package org.postilion.api.tls;
