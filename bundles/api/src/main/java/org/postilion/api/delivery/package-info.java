/** The delivery protocol SPI: the service every delivery bundle offers. */
package org.postilion.api.delivery;
