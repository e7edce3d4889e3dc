/** What a failure means for a sender's list: bounce classes, as KumoMTA names them. */
package org.postilion.api.bounce;
