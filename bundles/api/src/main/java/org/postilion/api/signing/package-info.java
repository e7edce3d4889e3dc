/** Message signing (DKIM) offered to ingress filters and policy routes. */
package org.postilion.api.signing;
