/** Traffic shaping: rates and the per-destination limits that delivery protocols apply. */
package org.postilion.api.shaping;
