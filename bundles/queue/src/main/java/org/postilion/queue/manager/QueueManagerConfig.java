package org.postilion.queue.manager;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The keys of {@code etc/org.postilion.queue.manager.cfg}. */
@ObjectClassDefinition(
    name = "Postilion queue manager",
    description = "Queue naming, routing and the policy threads")
public @interface QueueManagerConfig {
  @AttributeDefinition(description = "Header that names the tenant; removed before delivery")
  String tenant__header() default "X-Tenant";

  @AttributeDefinition(description = "Header that names the campaign; removed before delivery")
  String campaign__header() default "X-Campaign";

  @AttributeDefinition(
      description =
          "Add X-Postilion-Ref to every message, so that bounces and complaints are tied back"
              + " to it")
  boolean trace__header() default true;

  @AttributeDefinition(
      description =
          "Header fields every record of a message carries (KumoMTA's log headers), comma"
              + " separated; X-* takes every field starting X-")
  String log__headers() default "";

  @AttributeDefinition(
      description = "Meta values every record of a message carries (KumoMTA's log meta)")
  String log__meta() default "";

  @AttributeDefinition(description = "Longest a protocol may take to say where mail goes (DNS)")
  String resolve__timeout() default "60s";

  @AttributeDefinition(description = "Longest a queue configuration policy route may take")
  String policy__timeout() default "10s";

  @AttributeDefinition(description = "How long a policy route's queue configuration is kept")
  String policy__cache() default "60s";

  @AttributeDefinition(
      description = "Bytes of recently received messages kept in memory for their delivery")
  long message__cache() default 64L * 1024 * 1024;
}
