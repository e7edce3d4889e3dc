package org.postilion.api.admin;

/**
 * How many recipients one scheduled queue holds, kept up to date as mail moves, so reading it costs
 * nothing (the figures behind {@code /metrics}).
 *
 * @param scheduled recipients waiting in the queue: for their time, a suspension or a protocol
 * @param ready recipients handed to a delivery protocol, in its ready queue or on the wire
 * @param delayed recipients that failed at least once and wait to be tried again (a part of {@code
 *     scheduled} and {@code ready})
 */
public record QueueCounts(long scheduled, long ready, long delayed) {}
