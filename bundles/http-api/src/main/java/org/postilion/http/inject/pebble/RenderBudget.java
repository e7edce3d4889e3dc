package org.postilion.http.inject.pebble;

import java.time.Duration;

/**
 * What one injection request may spend on its templates: rendering time (all renderings together),
 * loop iterations and macro depth (each rendering), and the size of any value a template builds.
 * Pebble's loops, macros, filters and operators call back here through {@link #current()}, so a
 * template that runs too long or grows too big fails with a {@link TemplateLimitException} instead
 * of holding a thread or the heap. {@link #cancel} stops it from another thread (the request timed
 * out, the client left).
 *
 * <p>A budget is used by one thread at a time: renderings of a request run one after the other.
 */
public final class RenderBudget {
  /**
   * Macros calling macros deeper than this are refused: a recursion would end in a stack overflow.
   */
  static final int MAX_MACRO_DEPTH = 50;

  /** How often the cheap checks (value measuring, regular expressions) look at the clock. */
  private static final int CLOCK_EVERY = 4096;

  private static final ThreadLocal<RenderBudget> CURRENT = new ThreadLocal<>();

  private final Duration renderTimeout;
  private final long renderNanos;
  private final long maxIterations;
  private final int maxChars;
  private volatile String cancelled;

  private long spentNanos;
  private boolean rendering;
  private long startedAt;
  private long iterations;
  private int macroDepth;
  private int ticks;

  /**
   * @param renderTimeout how long all renderings of the request may take together
   * @param maxIterations loop passes and macro calls allowed in one rendering
   * @param maxChars the longest value (string, or list or map as text) a template may build
   */
  public RenderBudget(Duration renderTimeout, long maxIterations, int maxChars) {
    this.renderTimeout = renderTimeout;
    this.renderNanos = renderTimeout.toNanos();
    this.maxIterations = maxIterations;
    this.maxChars = maxChars;
  }

  /** The budget of the rendering on this thread; Pebble's hooks fail closed without one. */
  static RenderBudget current() {
    RenderBudget budget = CURRENT.get();
    if (budget == null) {
      throw new IllegalStateException("a template is rendered outside RenderBudget.start()");
    }
    return budget;
  }

  /**
   * Starts one rendering on this thread: the loop and macro counts start again, the clock runs on
   * from the request's earlier renderings. Close it when the rendering ends, however it ends.
   */
  public Rendering start() {
    check();
    CURRENT.set(this);
    iterations = 0;
    macroDepth = 0;
    startedAt = System.nanoTime();
    rendering = true;
    return new Rendering();
  }

  /** One rendering in progress; closing it books its time and leaves the thread clean. */
  public final class Rendering implements AutoCloseable {
    private Rendering() {}

    @Override
    public void close() {
      spentNanos += System.nanoTime() - startedAt;
      rendering = false;
      CURRENT.remove();
    }
  }

  /**
   * Stops the request's renderings at their next check, from any thread.
   *
   * @param reason why, for the client: "the request took longer than 30s"
   */
  public void cancel(String reason) {
    cancelled = reason;
  }

  /** Why the request was cancelled, or {@code null} while it is not. */
  public String cancellation() {
    return cancelled;
  }

  public int maxChars() {
    return maxChars;
  }

  long maxIterations() {
    return maxIterations;
  }

  /** One pass of a loop or one macro call. */
  void iteration() {
    if (++iterations > maxIterations) {
      throw new TemplateLimitException(
          "more than " + maxIterations + " loop passes and macro calls (max_loop_iterations)");
    }
    check();
  }

  /** A cheap check for inner loops: looks at the clock every few thousand calls. */
  void tick() {
    if (++ticks % CLOCK_EVERY == 0) {
      check();
    }
  }

  /** Fails when the request is cancelled or out of rendering time. */
  void check() {
    String reason = cancelled;
    if (reason != null) {
      throw new TemplateLimitException(reason, true);
    }
    long running = rendering ? System.nanoTime() - startedAt : 0;
    if (spentNanos + running > renderNanos) {
      throw new TemplateLimitException(
          "rendering took longer than " + describe(renderTimeout) + " (render_timeout)");
    }
  }

  void enterMacro() {
    if (++macroDepth > MAX_MACRO_DEPTH) {
      throw new TemplateLimitException("macros call each other deeper than " + MAX_MACRO_DEPTH);
    }
    iteration();
  }

  void exitMacro() {
    macroDepth--;
  }

  /**
   * Refuses {@code value} when its text would be longer than the limit.
   *
   * @param what what the value is, for the message: "the result of 'replace'"
   */
  void checkSize(Object value, String what) {
    if (ValueSize.exceeds(value, maxChars, this)) {
      throw tooLong(what);
    }
  }

  /** The refusal of a value longer than max_rendered_size. */
  TemplateLimitException tooLong(String what) {
    return new TemplateLimitException(
        what + " is longer than " + maxChars + " characters (max_rendered_size)");
  }

  private static String describe(Duration duration) {
    return duration.toMillis() % 1000 == 0
        ? duration.toSeconds() + "s"
        : duration.toMillis() + "ms";
  }
}
