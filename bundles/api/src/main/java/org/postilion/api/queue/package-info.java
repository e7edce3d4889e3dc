/** Queue naming and per-queue configuration. */
package org.postilion.api.queue;
