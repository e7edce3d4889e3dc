package org.postilion.api.admin;

/**
 * One ready queue of a delivery protocol: mail for one destination site from one egress source.
 *
 * @param name the ready queue's name, {@code source->site@protocol}
 * @param ready messages waiting for a connection
 * @param connections connections open now
 * @param suspended whether an operator suspended the site
 * @param pool the egress pool of the mail it carries (of the last message offered to it; {@code
 *     unspecified} when its queue names none), for KumoMTA's {@code *_by_provider_and_pool} series
 */
public record ReadyQueueStatus(
    String name,
    String protocol,
    String site,
    String source,
    int ready,
    int connections,
    boolean suspended,
    String pool) {}
