package org.postilion.api.admin;

import java.util.List;

/** Every scheduled queue and every ready queue. */
public record QueueSummary(List<ScheduledQueueStatus> scheduled, List<ReadyQueueStatus> ready) {}
