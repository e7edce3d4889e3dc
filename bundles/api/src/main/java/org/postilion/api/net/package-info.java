/** Network values shared by the listeners: client networks in CIDR notation. */
package org.postilion.api.net;
