package org.postilion.api.delivery;

/** The outcome of one attempt for one recipient. */
public record RecipientResult(String recipient, Disposition disposition, Response response) {}
