package org.postilion.queue.manager;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.postilion.api.admin.AdminAction;
import org.postilion.api.admin.MessageDetails;
import org.postilion.api.admin.ProtocolStatus;
import org.postilion.api.admin.QueueAdmin;
import org.postilion.api.admin.QueueCounts;
import org.postilion.api.admin.QueueSummary;
import org.postilion.api.admin.QueuedRecipient;
import org.postilion.api.admin.ReadyQueueDetails;
import org.postilion.api.admin.ReadyQueueStatus;
import org.postilion.api.admin.Selector;
import org.postilion.api.admin.XferStatus;
import org.postilion.api.queue.QueueConfig;
import org.postilion.api.queue.QueueName;

/**
 * The operator's hands on the queues ({@link QueueAdmin}, used by the shell, the admin API and
 * Camel routes as the bean {@code queueAdmin}): each action goes to the part of the running queue
 * manager that owns it.
 */
@Component(
    service = QueueAdmin.class,
    // The bean name of the admin service in Camel routes.
    property = "name=queueAdmin")
public class Administration implements QueueAdmin {
  @Reference private QueueParts parts;

  public Administration() {}

  /** For tests: the parts Declarative Services would inject. */
  Administration(QueueParts parts) {
    this.parts = parts;
  }

  @Override
  public QueueSummary summary() {
    return parts.inspection().summary();
  }

  @Override
  public String receptionPaused() {
    return parts.receptionPaused();
  }

  @Override
  public Map<String, QueueCounts> counts() {
    return parts.gauges().snapshot();
  }

  @Override
  public List<QueuedRecipient> list(Selector selector, int limit) {
    return parts.inspection().list(selector, limit);
  }

  @Override
  public Optional<MessageDetails> message(String messageId) {
    return parts.inspection().message(messageId);
  }

  @Override
  public List<ProtocolStatus> protocols() {
    return parts.inspection().protocols();
  }

  @Override
  public QueueConfig queueConfig(String queueName) {
    return parts.configs().now(QueueName.parse(queueName));
  }

  @Override
  public AdminAction suspend(Selector selector, Duration duration, String reason) {
    return parts.operations().suspend(selector, duration, reason);
  }

  @Override
  public AdminAction suspendReady(String site, Duration duration, String reason) {
    return parts.operations().suspendReady(site, duration, reason);
  }

  @Override
  public List<AdminAction> suspensions() {
    return parts.actions().inForce((AdminAction.Kind) null);
  }

  @Override
  public List<AdminAction> resume(String id, Selector selector) {
    return parts.operations().resume(id, selector);
  }

  @Override
  public boolean isReadySuspended(String site) {
    return parts.actions().isReadySuspended(site);
  }

  @Override
  public BounceOutcome bounce(Selector selector, Duration duration, String reason) {
    return parts.operations().bounce(selector, duration, reason);
  }

  @Override
  public List<AdminAction> bounces() {
    return parts.actions().inForce(AdminAction.Kind.BOUNCE);
  }

  @Override
  public Map<String, Long> bounced(String bounceId) {
    return parts.actions().bouncedBy(bounceId);
  }

  @Override
  public boolean cancelBounce(String id) {
    return parts.operations().cancelBounce(id);
  }

  @Override
  public int retryNow(Selector selector) {
    return parts.operations().retryNow(selector);
  }

  @Override
  public int rebind(Selector selector, String reason) {
    return parts.operations().rebind(selector, reason);
  }

  @Override
  public List<ReadyQueueStatus> readyQueues() {
    return parts.ready().statuses();
  }

  @Override
  public Optional<ReadyQueueDetails> readyQueue(String name) {
    return parts.ready().named(name).map(ReadyQueue::details);
  }

  @Override
  public boolean abortSession(String readyQueue, String sessionId) {
    return parts.ready().named(readyQueue).map(q -> q.abort(sessionId)).orElse(false);
  }

  @Override
  public XferStatus xfer(Selector selector, String target, String reason) {
    return parts.transfers().start(selector, target, reason);
  }

  @Override
  public List<XferStatus> xfers() {
    return parts.transfers().list();
  }

  @Override
  public Optional<XferStatus> cancelXfer(String name, String reason) {
    return parts.transfers().cancel(name, reason);
  }
}
