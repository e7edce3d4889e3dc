/** Helpers for components configured by files in etc/. */
package org.postilion.api.config;
