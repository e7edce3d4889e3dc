/** Message and envelope model. */
package org.postilion.api.message;
