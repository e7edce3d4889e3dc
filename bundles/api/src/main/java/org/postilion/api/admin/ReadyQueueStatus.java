package org.postilion.api.admin;

/**
 * One ready queue of a delivery protocol: mail for one destination site from one egress source.
 *
 * @param name the ready queue's name, {@code source->site@protocol}
 * @param ready messages waiting for a connection
 * @param connections connections open now
 * @param suspended whether an operator suspended the site
 */
public record ReadyQueueStatus(
    String name,
    String protocol,
    String site,
    String source,
    int ready,
    int connections,
    boolean suspended) {}
