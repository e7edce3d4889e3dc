package org.postilion.smtp.listener;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.james.metrics.api.Metric;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.api.TimeMetric;
import org.reactivestreams.Publisher;

/**
 * James Protocols insists on a MetricFactory and ships none; Postilion's own metrics are kept
 * elsewhere, so James's counters are kept in memory and its timers only measure.
 */
final class NoopMetricFactory implements MetricFactory {

  @Override
  public Metric generate(String name) {
    return new CountingMetric();
  }

  @Override
  public TimeMetric timer(String name) {
    long start = System.nanoTime();
    return new TimeMetric() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public ExecutionResult stopAndPublish() {
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        return new ExecutionResult() {
          @Override
          public Duration elasped() {
            return elapsed;
          }

          @Override
          public ExecutionResult logWhenExceedP99(Duration threshold) {
            return this;
          }
        };
      }
    };
  }

  @Override
  public <T> Publisher<T> decoratePublisherWithTimerMetric(String name, Publisher<T> publisher) {
    return publisher;
  }

  @Override
  public <T> Publisher<T> decoratePublisherWithTimerMetricLogP99(
      String name, Publisher<T> publisher) {
    return publisher;
  }

  private static final class CountingMetric implements Metric {
    private final AtomicLong count = new AtomicLong();

    @Override
    public void increment() {
      count.incrementAndGet();
    }

    @Override
    public void decrement() {
      count.decrementAndGet();
    }

    @Override
    public void add(int value) {
      count.addAndGet(value);
    }

    @Override
    public void remove(int value) {
      count.addAndGet(-value);
    }

    @Override
    public long getCount() {
      return count.get();
    }
  }
}
