package org.postilion.queue.manager;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.postilion.api.event.EventRecord;
import org.postilion.api.queue.QueueConfigPolicy;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.postilion.api.shaping.ShapingSettings;
import org.postilion.queue.QueueDefinition;
import org.postilion.queue.egress.EgressRegistry;
import org.postilion.queue.reception.ReceptionBuffers;
import org.postilion.testkit.TypedConfig;

/** A queue manager outside OSGi: a memory spool, the fake protocol, settings of the test's own. */
final class Harness implements AutoCloseable {
  final MemorySpool spool = new MemorySpool();
  final FakeProtocol protocol = new FakeProtocol();
  final List<EventRecord> records = new CopyOnWriteArrayList<>();
  final QueueManager manager;

  /** The operator's hands on {@link #manager}, as Declarative Services would wire them. */
  final Administration admin;

  volatile ShapingSettings shaping = ShapingSettings.DEFAULTS;
  final List<QueueConfigPolicy> policies = new CopyOnWriteArrayList<>();

  Harness(Path folder, Map<String, Object> managerSettings) throws Exception {
    manager = new QueueManager(Clock.systemUTC(), folder.resolve("bus"));
    admin = new Administration(manager);
    manager.bind(
        spool,
        ReceptionBuffers.of(folder.resolve("buffers"), 1 << 16, 1 << 24, 0, 0),
        new EgressRegistry(),
        (domain, site) -> shaping,
        policies);
    manager.addDefinition(definition("*", Map.of("protocol", "fake", "retry.interval", "1h")));
    manager.addListener(records::add, Map.of());
    Map<String, Object> settings = new HashMap<>(managerSettings);
    manager.activate(TypedConfig.of(QueueManagerConfig.class, settings));
    manager.addProtocol("fake", protocol, "test");
  }

  static QueueDefinition definition(String domain, Map<String, String> keys) {
    Map<String, Object> properties = new HashMap<>(keys);
    properties.put("match.domain", domain);
    properties.put(
        "felix.fileinstall.filename", "file:/etc/org.postilion.queue-" + domain + ".cfg");
    QueueDefinition definition = new QueueDefinition();
    definition.activate(TypedConfig.of(QueueDefinition.Config.class, properties), properties, null);
    return definition;
  }

  /** Sends one message to the recipients; returns its id. */
  String send(String... recipients) throws ReceptionException {
    byte[] content =
        "From: a@sender.test\r\nSubject: t\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);
    return manager.receive(
        new Submission("a@sender.test", List.of(recipients), content, "ESMTP", "127.0.0.1", null));
  }

  List<String> sendMany(String domain, int count) throws ReceptionException {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(send("r" + i + "@" + domain));
    }
    return ids;
  }

  long recordsOf(String type, String domain) {
    return records.stream()
        .filter(r -> r.type().recordName().equals(type) && r.recipient().endsWith("@" + domain))
        .count();
  }

  static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Override
  public void close() throws Exception {
    protocol.release();
    manager.deactivate();
  }
}
