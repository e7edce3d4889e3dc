package org.postilion.queue.manager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postilion.api.admin.Selector;
import org.postilion.api.admin.XferStatus;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.json.Json;
import org.postilion.api.spool.MessageRecord;
import org.postilion.api.spool.QueueEntry;
import org.postilion.api.spool.Spool;
import org.postilion.api.spool.SpoolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transfers of queued mail to another node (KumoMTA's xfer). The matching mail leaves its queues
 * here for the transfer; a few threads per target send each batch (one message's recipients of one
 * scheduled queue) to the target's {@code /api/xfer/inject/v1}, which answers once it has the
 * message on disk; only then is it booked here as XferOut and removed from this spool. A batch the
 * target refuses goes back to its queue as it was; after many refusals in a row the transfer gives
 * up and gives everything back. Until booked, a message stays in this spool: a crash here means at
 * most the batches in flight are sent twice, never that one is lost.
 */
final class Transfers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Transfers.class);

  /** KumoMTA names an xfer's queue by its target and this suffix (ours instead of kumomta's). */
  static final String SUFFIX = "/.xfer.postilion.internal";

  /** The wire format of {@code /api/xfer/inject/v1}: one JSON line, then the message. */
  static final String MEDIA_TYPE = "application/vnd.postilion.xfer";

  private static final int THREADS = 4;
  private static final int GIVE_UP_AFTER = 20;
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]{1,200})\"");

  /** What a transfer does with the queues and outcomes here. */
  interface Environment {
    /** Takes the matching mail out of its queues (scheduled, parked, held, ready). */
    List<Batch> take(Selector selector);

    /** A batch not transferred goes back to its queue. */
    void giveBack(Batch batch);

    /** The target has it on disk: book XferOut and remove it here; returns once booked. */
    void transferred(Batch batch, String response);

    /** It left its queue for the transfer (KumoMTA writes AdminRebind). */
    void rebound(Batch batch, MessageRecord message, String response);
  }

  private final Spool spool;
  private final String nodeId;
  private final Environment environment;
  private final Clock clock;
  private final HttpClient http;
  private final AtomicInteger threadNumber = new AtomicInteger();

  // Guarded by this; newest first.
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private boolean closed;

  Transfers(Spool spool, String nodeId, Environment environment, Clock clock) {
    this.spool = spool;
    this.nodeId = nodeId;
    this.environment = environment;
    this.clock = clock;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** A target as given, checked: where to send, what to show, how to authenticate. */
  record Target(URI endpoint, String shown, String authorization) {
    static Target parse(String text) {
      URI uri;
      try {
        uri = new URI(text == null ? "" : text.trim());
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("target: not a URL: " + text, e);
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
        throw new IllegalArgumentException(
            "target: the other node's HTTP API, e.g. https://node-b:8000, not " + text);
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new IllegalArgumentException("target: no query or fragment: " + text);
      }
      String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
      String authority =
          (uri.getHost().contains(":") ? "[" + uri.getHost() + "]" : uri.getHost())
              + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
      String shown = scheme + "://" + authority + path;
      String authorization = null;
      if (uri.getRawUserInfo() != null) {
        String info = uri.getRawUserInfo();
        int colon = info.indexOf(':');
        String user =
            URLDecoder.decode(colon < 0 ? info : info.substring(0, colon), StandardCharsets.UTF_8);
        String password =
            colon < 0 ? "" : URLDecoder.decode(info.substring(colon + 1), StandardCharsets.UTF_8);
        authorization =
            "Basic "
                + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
      }
      return new Target(URI.create(shown + "/api/xfer/inject/v1"), shown, authorization);
    }
  }

  /** Takes the matching mail and starts (or adds to) the transfer to {@code target}. */
  XferStatus start(Selector selector, String target, String reason) {
    Target parsed = Target.parse(target);
    String name = parsed.shown() + SUFFIX;
    String why = reason == null || reason.isBlank() ? "no reason given" : reason.trim();
    Job job = running(name, parsed, why);
    List<Batch> taken = environment.take(selector);
    while (!job.add(taken)) {
      // It ended while the mail was being taken: a new one carries it.
      job = running(name, parsed, why);
    }
    LOG.info(
        "Xfer {}: {} recipients matching {} to transfer ({})",
        name,
        taken.stream().mapToInt(Batch::size).sum(),
        selector,
        why);
    return job.status();
  }

  /** The running xfer to this target, or a new one in its place. */
  private synchronized Job running(String name, Target target, String reason) {
    if (closed) {
      throw new IllegalStateException("the queue manager is stopping");
    }
    Job job = jobs.get(name);
    if (job == null || !job.running()) {
      job = new Job(name, target, reason, Instant.now(clock));
      jobs.remove(name);
      Map<String, Job> newestFirst = new LinkedHashMap<>();
      newestFirst.put(name, job);
      newestFirst.putAll(jobs);
      jobs.clear();
      jobs.putAll(newestFirst);
    }
    return job;
  }

  synchronized List<XferStatus> list() {
    return jobs.values().stream().map(Job::status).toList();
  }

  Optional<XferStatus> cancel(String name, String reason) {
    Job job;
    synchronized (this) {
      job = jobs.get(name == null ? "" : name.trim());
    }
    if (job == null) {
      return Optional.empty();
    }
    job.cancel(reason);
    return Optional.of(job.status());
  }

  /** Stops the threads; what was not transferred is still in the spool for the next start. */
  @Override
  public void close() {
    List<Job> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(jobs.values());
    }
    all.forEach(Job::stop);
  }

  /** The request body: one JSON line with the envelope and schedule, then the message. */
  InputStream body(Batch batch, MessageRecord message) {
    QueueEntry first = batch.entries().get(0);
    Map<String, Object> head = new LinkedHashMap<>();
    head.put("source_node", nodeId);
    head.put("source_id", message.id());
    head.put("sender", message.sender());
    head.put("recipients", batch.recipients());
    head.put("queue", batch.queue());
    head.put("created", message.created());
    head.put("due", first.due());
    head.put("attempts", first.attempts());
    byte[] line = (Json.write(head) + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      return new SequenceInputStream(
          new ByteArrayInputStream(line), spool.openContent(message.id()));
    } catch (SpoolException e) {
      throw new UncheckedIOException(new IOException("cannot read " + message.id(), e));
    }
  }

  /** One transfer: its batches and the threads that send them. */
  private final class Job {
    private final String name;
    private final Target target;
    private final String reason;
    private final Instant started;
    private final AtomicInteger taken = new AtomicInteger();
    private final AtomicInteger transferred = new AtomicInteger();
    private final AtomicInteger returned = new AtomicInteger();

    // Guarded by this.
    private final Deque<Batch> pending = new ArrayDeque<>();
    private final List<Thread> threads = new ArrayList<>();
    private String state = "running";
    private String lastError;
    private int failuresInARow;

    Job(String name, Target target, String reason, Instant started) {
      this.name = name;
      this.target = target;
      this.reason = reason;
      this.started = started;
    }

    synchronized boolean running() {
      return state.equals("running");
    }

    /** False when the xfer ended meanwhile: the caller keeps the batches. */
    boolean add(List<Batch> batches) {
      synchronized (this) {
        if (!state.equals("running")) {
          return false;
        }
        pending.addAll(batches);
        batches.forEach(b -> taken.addAndGet(b.size()));
        int wanted = Math.min(THREADS, pending.size());
        while (threads.size() < wanted) {
          Thread thread =
              DaemonThreads.of("postilion-xfer-" + threadNumber.incrementAndGet(), this::run);
          threads.add(thread);
          thread.start();
        }
        if (threads.isEmpty()) {
          // Nothing matched and nothing is under way: there is nothing to wait for.
          state = "done";
        }
        return true;
      }
    }

    private void run() {
      try {
        while (true) {
          Batch batch;
          synchronized (this) {
            batch = state.equals("running") ? pending.pollFirst() : null;
            if (batch == null) {
              return;
            }
          }
          try {
            send(batch);
          } catch (RuntimeException e) {
            // Ours, not the target's: the batch goes back rather than stay in no queue.
            LOG.error("Xfer {} failed on {}", name, batch.messageId(), e);
            failed(batch, "internal error: " + e);
          }
        }
      } finally {
        synchronized (this) {
          threads.remove(Thread.currentThread());
          if (threads.isEmpty() && state.equals("running")) {
            state = "done";
            LOG.info("Xfer {} done: {} recipients transferred", name, transferred.get());
          }
        }
      }
    }

    private void send(Batch batch) {
      MessageRecord message;
      try {
        message = spool.message(batch.messageId()).orElse(null);
      } catch (SpoolException e) {
        failed(batch, "cannot read " + batch.messageId() + ": " + e.getMessage());
        return;
      }
      if (message == null) {
        // Gone meanwhile (expired or bounced by another path): nothing left to move.
        return;
      }
      environment.rebound(batch, message, "rebound to " + name + ": " + reason);
      // The client closes a body only once it has read it all: the spool's stream is closed here.
      List<InputStream> opened = new CopyOnWriteArrayList<>();
      HttpRequest.Builder request =
          HttpRequest.newBuilder(target.endpoint())
              .timeout(Duration.ofSeconds(120))
              .header("Content-Type", MEDIA_TYPE)
              .POST(
                  HttpRequest.BodyPublishers.ofInputStream(
                      () -> {
                        InputStream body = body(batch, message);
                        opened.add(body);
                        return body;
                      }));
      if (target.authorization() != null) {
        request.header("Authorization", target.authorization());
      }
      HttpResponse<String> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException | UncheckedIOException e) {
        cameBack(batch, message, e.toString());
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cameBack(batch, message, "interrupted");
        return;
      } finally {
        for (InputStream body : opened) {
          try {
            body.close();
          } catch (IOException e) {
            LOG.warn("Closing {} after its transfer failed: {}", batch.messageId(), e.toString());
          }
        }
      }
      Matcher id = ID.matcher(response.body() == null ? "" : response.body());
      if (response.statusCode() != 200 || !id.find()) {
        String body = response.body() == null ? "" : response.body();
        cameBack(
            batch,
            message,
            "HTTP "
                + response.statusCode()
                + ": "
                + body.substring(0, Math.min(200, body.length())).replace('\n', ' '));
        return;
      }
      synchronized (this) {
        failuresInARow = 0;
      }
      environment.transferred(
          batch, "transferred to " + target.shown() + " as " + id.group(1) + ": " + reason);
      transferred.addAndGet(batch.size());
    }

    /** A batch the target did not take after its AdminRebind to the xfer: rebound back here. */
    private void cameBack(Batch batch, MessageRecord message, String error) {
      environment.rebound(batch, message, "rebound back from " + name + ": " + error);
      failed(batch, error);
    }

    private void failed(Batch batch, String error) {
      environment.giveBack(batch);
      returned.addAndGet(batch.size());
      boolean giveUp;
      synchronized (this) {
        lastError = error;
        giveUp = ++failuresInARow >= GIVE_UP_AFTER && state.equals("running");
      }
      LOG.warn("Xfer {}: {} stays here: {}", name, batch.messageId(), error);
      if (giveUp) {
        fail(GIVE_UP_AFTER + " transfers in a row failed, the latest: " + error);
      }
    }

    private void fail(String error) {
      List<Batch> left;
      synchronized (this) {
        if (!state.equals("running")) {
          return;
        }
        state = "failed";
        lastError = error;
        left = new ArrayList<>(pending);
        pending.clear();
      }
      giveBack(left);
      LOG.error(
          "Xfer {} gave up ({}); {} batches went back to their queues", name, error, left.size());
    }

    void cancel(String why) {
      List<Batch> left;
      synchronized (this) {
        if (!state.equals("running")) {
          return;
        }
        state = "cancelled";
        left = new ArrayList<>(pending);
        pending.clear();
      }
      giveBack(left);
      LOG.info(
          "Xfer {} cancelled ({}): {} batches went back to their queues",
          name,
          why == null || why.isBlank() ? "no reason given" : why,
          left.size());
    }

    /** At shutdown: the threads end; their batches are in the spool for the next start. */
    void stop() {
      List<Thread> running;
      synchronized (this) {
        if (state.equals("running")) {
          state = "stopped";
        }
        pending.clear();
        running = new ArrayList<>(threads);
      }
      running.forEach(Thread::interrupt);
    }

    private void giveBack(List<Batch> batches) {
      for (Batch batch : batches) {
        environment.giveBack(batch);
        returned.addAndGet(batch.size());
      }
    }

    synchronized XferStatus status() {
      return new XferStatus(
          name,
          target.shown(),
          reason,
          state,
          started,
          taken.get(),
          transferred.get(),
          returned.get(),
          lastError);
    }
  }
}
