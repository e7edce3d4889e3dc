package org.postilion.queue.reception;

import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.config.ConfigFiles;
import org.postilion.api.delivery.Response;
import org.postilion.api.metrics.MetricSet;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.spool.Spool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the server from running out of disk or heap, as KumoMTA's {@code min_free_space} does:
 * while the spool's or the data folder's filesystem has less free space than {@code
 * min_free_space}, or the heap after garbage collection is fuller than {@code max_heap_used},
 * reception refuses new mail with a 4xx (SMTP 452 4.3.1 or 451 4.3.2, HTTP 503). Delivery goes on,
 * and reception resumes by itself once the check passes again. Looked at once a second on a thread
 * of its own, so reception only reads the last verdict.
 */
@Component(service = ResourceGuard.class, immediate = true, configurationPid = ResourceGuard.PID)
@Designate(ocd = ResourceGuard.Config.class)
public class ResourceGuard {
  static final String PID = "org.postilion.queue.resources";
  private static final Logger LOG = LoggerFactory.getLogger(ResourceGuard.class);

  @ObjectClassDefinition(
      name = "Postilion resource guard",
      description = "Free disk space and heap below which reception refuses new mail")
  public @interface Config {
    @AttributeDefinition(
        description =
            "Free space to keep on the spool's and data folder's filesystems: a percentage (10%)"
                + " or a size in bytes (500m, 2g); 0 disables the check")
    String min__free__space() default "10%";

    @AttributeDefinition(
        description = "More folders whose filesystems are watched, comma separated")
    String folders() default "";

    @AttributeDefinition(
        description =
            "Percent of the heap that may be in use after garbage collection; 0 disables it")
    int max__heap__used() default 90;
  }

  /** What a check found wrong; {@code null} fields when all is well. */
  record Verdict(String reason, Response response, String detail) {
    static final Verdict FINE = new Verdict(null, null, null);

    boolean refuses() {
      return reason != null;
    }
  }

  /** Free space to keep: a fraction of the filesystem or a number of bytes. */
  record FreeSpace(double fraction, long bytes) {
    static final FreeSpace NONE = new FreeSpace(0, 0);

    static FreeSpace parse(String value) {
      String text = value == null ? "" : value.trim().toLowerCase(java.util.Locale.ROOT);
      if (text.isEmpty() || text.equals("0")) {
        return NONE;
      }
      try {
        if (text.endsWith("%")) {
          double percent = Double.parseDouble(text.substring(0, text.length() - 1).trim());
          if (percent < 0 || percent >= 100) {
            throw new IllegalArgumentException("min_free_space must be below 100%: " + value);
          }
          return new FreeSpace(percent / 100, 0);
        }
        long unit = 1;
        char last = text.charAt(text.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g' || last == 't') {
          unit = 1L << (10 * ("kmgt".indexOf(last) + 1));
          text = text.substring(0, text.length() - 1).trim();
        }
        long bytes = Math.multiplyExact(Long.parseLong(text), unit);
        if (bytes < 0) {
          throw new IllegalArgumentException("min_free_space must not be negative: " + value);
        }
        return new FreeSpace(0, bytes);
      } catch (NumberFormatException | ArithmeticException e) {
        throw new IllegalArgumentException(
            "min_free_space must be a percentage (10%) or a size (500m, 2g): " + value, e);
      }
    }

    /** Bytes to keep free on a filesystem of {@code total} bytes. */
    long of(long total) {
      return Math.max(bytes, (long) (fraction * total));
    }

    @Override
    public String toString() {
      return bytes > 0 ? bytes + " bytes" : (fraction * 100) + "%";
    }
  }

  /** A watched folder: its name in the metrics ({@code disk_free_bytes{name=...}}) and path. */
  private record Folder(String name, Path path) {}

  private record Settings(FreeSpace minFree, List<Folder> folders, int maxHeapPercent) {}

  /** What the last check saw of one folder's filesystem. */
  private record Space(String name, long free, long total) {}

  @Reference private Spool spool;

  private final DoubleSupplier heapAfterGc;
  private volatile Settings settings;
  private volatile Verdict verdict = Verdict.FINE;
  private volatile List<Space> spaces = List.of();
  private volatile double heapUsed;
  private final MetricSet metrics = new MetricSet();
  private ScheduledExecutorService checker;

  public ResourceGuard() {
    this(ResourceGuard::oldGenerationAfterGc);
  }

  /**
   * @param heapAfterGc the fraction of the heap in use after the last collection, 0 to 1
   */
  ResourceGuard(DoubleSupplier heapAfterGc) {
    this.heapAfterGc = heapAfterGc;
  }

  @Activate
  void activate(Config config, Map<String, Object> properties) {
    modified(config, properties);
    metrics.multiCollector("resource-guard", () -> this::collect);
    checker =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("postilion-resource-guard"));
    checker.scheduleWithFixedDelay(this::checkQuietly, 0, 1, TimeUnit.SECONDS);
  }

  @Modified
  void modified(Config config, Map<String, Object> properties) {
    settings =
        ConfigFiles.parseOrReject(
            LOG, ConfigFiles.fileName(properties), settings != null, () -> settings(config));
    LOG.info(
        "Reception pauses below {} free on {} or above {}% of the heap after collection",
        settings.minFree(), settings.folders(), settings.maxHeapPercent());
  }

  @Deactivate
  void deactivate() {
    if (checker != null) {
      checker.shutdownNow();
    }
    metrics.close();
  }

  /**
   * KumoMTA's {@code disk_free_bytes} and {@code disk_free_percent} per watched folder ({@code
   * name} {@code spool}, {@code data} or the folder), {@code memory_usage} (the process's resident
   * set), and ours: {@code heap_used_after_gc_percent}, against {@code max_heap_used}.
   */
  private MetricSnapshots collect() {
    GaugeSnapshot.Builder bytes =
        GaugeSnapshot.builder()
            .name("disk_free_bytes")
            .help("number of available bytes in a monitored location");
    GaugeSnapshot.Builder percent =
        GaugeSnapshot.builder()
            .name("disk_free_percent")
            .help("percentage of available bytes in a monitored location");
    for (Space space : spaces) {
      Labels labels = Labels.of("name", space.name());
      bytes.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(space.free()).build());
      double share = space.total() > 0 ? 100.0 * space.free() / space.total() : 0;
      percent.dataPoint(GaugeDataPointSnapshot.builder().labels(labels).value(share).build());
    }
    GaugeSnapshot.Builder heap =
        GaugeSnapshot.builder()
            .name("heap_used_after_gc_percent")
            .help("percent of the heap in use after the last collection (see max_heap_used)")
            .dataPoint(GaugeDataPointSnapshot.builder().value(heapUsed * 100).build());
    MetricSnapshots.Builder all =
        MetricSnapshots.builder().metricSnapshot(bytes.build()).metricSnapshot(percent.build());
    long rss = residentBytes();
    if (rss > 0) {
      all.metricSnapshot(
          GaugeSnapshot.builder()
              .name("memory_usage")
              .help("number of bytes of used memory (Resident Set Size)")
              .dataPoint(GaugeDataPointSnapshot.builder().value(rss).build())
              .build());
    }
    return all.metricSnapshot(heap.build()).build();
  }

  /**
   * The resident set, {@code VmRSS} of {@code /proc/self/status} (Linux), or 0 where there is none.
   */
  private static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] fields = line.substring(6).trim().split("\\s+");
          return Long.parseLong(fields[0]) * 1024; // kB
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("No resident set size here: {}", e.toString());
    }
    return 0;
  }

  private Settings settings(Config config) {
    FreeSpace minFree = FreeSpace.parse(config.min__free__space());
    int heap = config.max__heap__used();
    if (heap < 0 || heap > 100) {
      throw new IllegalArgumentException("max_heap_used must be between 0 and 100: " + heap);
    }
    Map<Path, Folder> folders = new LinkedHashMap<>();
    Path spoolFolder = spool == null ? null : spool.folder();
    if (spoolFolder != null) {
      folders.put(spoolFolder.toAbsolutePath(), new Folder("spool", spoolFolder.toAbsolutePath()));
    }
    Path data = Path.of(System.getProperty("karaf.data", "data")).toAbsolutePath();
    folders.putIfAbsent(data, new Folder("data", data));
    for (String folder : config.folders().split(",")) {
      if (!folder.isBlank()) {
        Path path = Path.of(folder.trim()).toAbsolutePath();
        folders.putIfAbsent(path, new Folder(path.toString(), path));
      }
    }
    return new Settings(minFree, List.copyOf(folders.values()), heap);
  }

  /** Throws the refusal reception must give now, if any. Never blocks. */
  public void check() throws ReceptionException {
    Verdict now = verdict;
    if (now.refuses()) {
      throw new ReceptionException(now.response(), now.reason());
    }
  }

  /** The limit reception is refused for now ({@code min_free_space}...), null when none. */
  public String refusing() {
    return verdict.reason();
  }

  private void checkQuietly() {
    try {
      update(inspect());
    } catch (Throwable e) {
      // An exception would end the scheduled checks for good; the next second tries again.
      LOG.error("Checking free space and heap failed; the last verdict stays", e);
    }
  }

  /** Looks at the disks and the heap now. */
  Verdict inspect() {
    Settings current = settings;
    List<Space> seen = new ArrayList<>();
    Verdict found = Verdict.FINE;
    for (Folder folder : current.folders()) {
      Verdict disk = disk(folder, current.minFree(), seen);
      if (disk.refuses() && !found.refuses()) {
        found = disk;
      }
    }
    spaces = List.copyOf(seen);
    double used = heapAfterGc.getAsDouble();
    heapUsed = used;
    if (found.refuses()) {
      return found;
    }
    if (current.maxHeapPercent() > 0) {
      if (used * 100 > current.maxHeapPercent()) {
        return new Verdict(
            "max_heap_used",
            Response.of(451, "4.3.2", "the server is overloaded, try again later"),
            String.format(
                "%.0f%% of the heap is in use after garbage collection (max_heap_used %d%%)",
                used * 100, current.maxHeapPercent()));
      }
    }
    return Verdict.FINE;
  }

  private static Verdict disk(Folder watched, FreeSpace minFree, List<Space> seen) {
    Path folder = watched.path();
    Path existing = folder;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return Verdict.FINE;
    }
    try {
      FileStore store = Files.getFileStore(existing);
      long free = store.getUsableSpace();
      long total = store.getTotalSpace();
      seen.add(new Space(watched.name(), free, total));
      long keep = minFree.of(total);
      if (!minFree.equals(FreeSpace.NONE) && free < keep) {
        return new Verdict(
            "min_free_space",
            Response.of(452, "4.3.1", "insufficient system storage, try again later"),
            String.format(
                "%s has %d MiB free, below min_free_space %s (%d MiB)",
                folder, free >> 20, minFree, keep >> 20));
      }
      return Verdict.FINE;
    } catch (IOException e) {
      LOG.warn("Cannot tell the free space of {}: {}", folder, e.toString());
      return Verdict.FINE;
    }
  }

  /** Takes a new verdict, saying so in the log when it changes. */
  void update(Verdict next) {
    Verdict previous = verdict;
    verdict = next;
    if (next.refuses() && !next.reason().equals(previous.reason())) {
      LOG.error(
          "Reception paused: {}. New mail is answered {} until it recovers; delivery goes on",
          next.detail(),
          next.response());
    } else if (!next.refuses() && previous.refuses()) {
      LOG.info("Reception resumed: {} recovered", previous.reason());
    }
  }

  /**
   * The old generation's use after its last collection, as a fraction of its maximum: the pools
   * named Old or Tenured (G1, Parallel, Serial); for a single-pool collector (ZGC, Shenandoah), its
   * one heap pool. Survivor spaces are full after every young collection and say nothing.
   */
  private static double oldGenerationAfterGc() {
    List<MemoryPoolMXBean> heap = new ArrayList<>();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.isCollectionUsageThresholdSupported()) {
        heap.add(pool);
      }
    }
    List<MemoryPoolMXBean> old =
        heap.stream().filter(p -> p.getName().matches(".*(Old|Tenured).*")).toList();
    double fullest = 0;
    for (MemoryPoolMXBean pool : old.isEmpty() && heap.size() == 1 ? heap : old) {
      MemoryUsage usage = pool.getCollectionUsage();
      if (usage != null && usage.getMax() > 0) {
        fullest = Math.max(fullest, (double) usage.getUsed() / usage.getMax());
      }
    }
    return fullest;
  }
}
