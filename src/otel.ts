/**
 * OpenTelemetry traces and metrics for a task runner, through
 * `@opentelemetry/api` only (an optional peer dependency): bring your own SDK.
 *
 * - Traces: each attempt of a task is a span named after the task, linked
 *   (a link, not a child) to the span that was active when the task was
 *   added, so the request's span ends with its response and its latency
 *   excludes the task. The span is active while the task runs, so the task's
 *   own spans are its children. Attributes: `background_task.name`,
 *   `background_task.attempt`, `background_task.outcome` (`"success"`,
 *   `"failure"` or `"timeout"`) and `background_task.queue_wait_ms`; a
 *   failure is recorded on the span (`recordException`, status `ERROR`).
 * - Metrics, per task name (`background_task.name`):
 *   `background_tasks.queued` and `background_tasks.running` (up-down
 *   counters), `background_tasks.succeeded`, `.failed`, `.retried`,
 *   `.dropped` and `.skipped` (counters), `background_tasks.duration` and
 *   `background_tasks.queue_wait` (histograms, in seconds).
 *
 * With no tracer or meter provider registered, the API's no-op ones make
 * this cost next to nothing.
 *
 * @example Spans and metrics for the runner your handlers use
 * ```ts
 * import { TaskRunner } from "@background/tasks";
 * import { instrumentTasks } from "@background/tasks/otel";
 *
 * const runner = new TaskRunner({ concurrency: 8 });
 * const stop = instrumentTasks(runner); // the global tracer and meter providers
 * runner.addTask(function sendWelcomeEmail(to: string) {}, "ada@example.com");
 * await runner.drain();
 * stop();
 * ```
 *
 * @module
 */
import {
  type Attributes,
  type BatchObservableResult,
  type Context,
  context,
  createNoopMeter,
  type Histogram,
  INVALID_TRACEID,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import type { AcceptedTask } from "./types.ts";
import type { TaskRunner } from "./TaskRunner.ts";
import { TaskTimeoutError } from "./errors.ts";
import { _observe, _queuedAt } from "./_observers.ts";

/** The instrumentation scope of the spans and metrics. */
export const INSTRUMENTATION_NAME = "@background/tasks";

/** Options of {@link instrumentTasks}. */
export interface InstrumentTasksOptions {
  /**
   * Where spans go; `false` for no spans.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  readonly tracerProvider?: TracerProvider | false;
  /**
   * Where metrics go; `false` for no metrics.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  readonly meterProvider?: MeterProvider | false;
}

/** One task name's attributes, made once, and its counts, read when metrics are collected. */
interface _ByName {
  readonly attributes: Attributes;
  readonly outcomes: { readonly success: Attributes; readonly failure: Attributes; readonly timeout: Attributes };
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  retried: number;
  dropped: number;
  skipped: number;
}

type _Outcome = "success" | "failure" | "timeout";

/**
 * Traces each attempt of `runner`'s tasks and records its metrics, from now
 * on. Call it once per runner (each call adds its own spans and counts).
 * Works for in-process and worker-thread runners, and for the web side of a
 * durable runner (there an attempt is the hand-over to the queue; for the
 * worker side see docs/observability.md).
 *
 * @param runner the runner to instrument
 * @param options the tracer and meter providers; default: the global ones
 * @returns a function that stops the instrumentation
 */
export function instrumentTasks(runner: TaskRunner, options: InstrumentTasksOptions = {}): () => void {
  if (runner === null || typeof runner !== "object" || typeof (runner as { addTask?: unknown }).addTask !== "function") {
    throw new TypeError("instrumentTasks(runner, options): runner must be a TaskRunner, e.g. the one your handlers use.");
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError("instrumentTasks(runner, options): options must be an object { tracerProvider?, meterProvider? }.");
  }
  for (const key of Object.keys(options)) {
    if (key !== "tracerProvider" && key !== "meterProvider") {
      throw new TypeError(`instrumentTasks: unknown option "${key}"; the options are tracerProvider and meterProvider.`);
    }
  }
  const { tracerProvider, meterProvider } = options;
  const provider = tracerProvider === false ? undefined : tracerProvider ?? trace.getTracerProvider();
  const tracer = provider?.getTracer(INSTRUMENTATION_NAME);
  // The global provider is a proxy until an SDK registers one; until then an attempt skips all span work.
  const unregistered = (): boolean => provider instanceof ProxyTracerProvider && provider.getDelegate() === _NOOP_TRACER_PROVIDER;
  const meter = meterProvider === false ? undefined : (meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  // The metrics API has no proxy: a meter from the no-op provider stays a no-op, so skip it entirely.
  const histograms = meter === undefined || meter instanceof _NoopMeter ? undefined : _createHistograms(meter);
  const byName = new Map<string, _ByName>();
  const counts = (name: string): _ByName => {
    let entry = byName.get(name);
    if (entry === undefined) byName.set(name, entry = _newCounts(name));
    return entry;
  };
  const stopCollecting = histograms === undefined ? undefined : _observeCounts(meter!, byName);

  const stopObserving = _observe(runner, {
    queued: histograms === undefined ? undefined : (task) => void counts(task.name).queued++,
    attempt(task, attempt) {
      const traced = tracer !== undefined && !unregistered();
      if (histograms === undefined && !traced) return attempt();
      const started = performance.now();
      const queuedAt = _queuedAt(task);
      const waitMs = queuedAt === 0 ? 0 : started - queuedAt;
      const name = task.name;
      const entry = histograms === undefined ? undefined : counts(name);
      if (entry !== undefined) {
        entry.queued--;
        entry.running++;
        histograms!.queueWait.record(waitMs / 1000, entry.attributes);
      }
      // Inside the attempt, the active context is the one the task was added in (the request's).
      const active = traced ? context.active() : undefined;
      const span = traced ? _startSpan(tracer!, name, task.attempt, waitMs, active!) : undefined;
      let result: unknown;
      try {
        result = span === undefined ? attempt() : context.with(trace.setSpan(active!, span), attempt);
      } catch (error) {
        _end(histograms, entry, started, span, error instanceof TaskTimeoutError ? "timeout" : "failure", error);
        throw error;
      }
      if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
        _endLater(task, result as PromiseLike<unknown>, (outcome, error) => _end(histograms, entry, started, span, outcome, error));
      } else _end(histograms, entry, started, span, "success", undefined);
      return result;
    },
    // A worker thread's runner sends the attempt's span with the task (the span is active here).
    traceContext: tracer === undefined ? undefined : () => {
      if (unregistered()) return undefined;
      const fields: Record<string, string> = {};
      propagation.inject(context.active(), fields);
      for (const _ in fields) return fields;
      return undefined;
    },
  });

  const unsubscribe = histograms === undefined ? [] : [
    runner.on("success", (task) => void counts(task.name).succeeded++),
    runner.on("failure", (_error, info) => void counts(info.name).failed++),
    runner.on("retry", (_error, info) => void counts(info.name).retried++),
    runner.on("drop", (task) => void counts(task.name).dropped++),
    runner.on("skip", (task) => void counts(task.name).skipped++),
  ];
  return () => {
    stopObserving();
    for (const off of unsubscribe) off();
    stopCollecting?.();
  };
}

/** Ends an async attempt once: when its promise settles, or when the runner times it out. */
function _endLater(task: AcceptedTask, result: PromiseLike<unknown>, end: (outcome: _Outcome, error: unknown) => void): void {
  let ended = false;
  const once = (outcome: _Outcome, error: unknown): void => {
    if (ended) return;
    ended = true;
    end(outcome, error);
  };
  result.then(() => once("success", undefined), (error: unknown) => once(error instanceof TaskTimeoutError ? "timeout" : "failure", error));
  // The runner gives up on an attempt that times out; its span ends then, not when the work does.
  const signal = task.signal;
  signal.addEventListener("abort", () => {
    if (signal.reason instanceof TaskTimeoutError) once("timeout", signal.reason);
  }, { once: true });
}

const _NoopMeter = createNoopMeter().constructor;
/** The key of the SDK's `suppressTracing(context)` (`@opentelemetry/core` makes it with `Symbol.for`). */
const _SUPPRESS_TRACING = Symbol.for("OpenTelemetry SDK Context Key SUPPRESS_TRACING");
const _NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

function _newCounts(name: string): _ByName {
  const attributes = { "background_task.name": name };
  const outcome = (value: _Outcome): Attributes => ({ ...attributes, "background_task.outcome": value });
  return {
    attributes,
    outcomes: { success: outcome("success"), failure: outcome("failure"), timeout: outcome("timeout") },
    queued: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    retried: 0,
    dropped: 0,
    skipped: 0,
  };
}

// Seconds, from a millisecond to a minute (the API's default buckets suit milliseconds).
const _SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface _Histograms {
  readonly duration: Histogram;
  readonly queueWait: Histogram;
}

function _createHistograms(meter: Meter): _Histograms {
  const seconds = { unit: "s", advice: { explicitBucketBoundaries: _SECONDS } };
  return {
    duration: meter.createHistogram("background_tasks.duration", { ...seconds, description: "How long an attempt ran." }),
    queueWait: meter.createHistogram("background_tasks.queue_wait", {
      ...seconds,
      description: "How long an attempt waited in the run queue (after its response was sent, or its retry delay).",
    }),
  };
}

/**
 * The counts are kept in plain numbers per task name and reported when metrics are collected
 * (observable instruments), so an attempt pays for two histogram records, not eight updates.
 */
function _observeCounts(meter: Meter, byName: Map<string, _ByName>): () => void {
  const tasks = { unit: "{task}" };
  const gauges = {
    queued: meter.createObservableUpDownCounter("background_tasks.queued", {
      ...tasks,
      description: "Tasks ready to run, waiting for a free slot.",
    }),
    running: meter.createObservableUpDownCounter("background_tasks.running", { ...tasks, description: "Attempts running now." }),
  };
  const totals = {
    succeeded: meter.createObservableCounter("background_tasks.succeeded", { ...tasks, description: "Tasks that finished without error." }),
    failed: meter.createObservableCounter("background_tasks.failed", {
      ...tasks,
      description: "Tasks that failed after their last attempt.",
    }),
    retried: meter.createObservableCounter("background_tasks.retried", {
      ...tasks,
      description: "Retries scheduled after a failed or timed-out attempt.",
    }),
    dropped: meter.createObservableCounter("background_tasks.dropped", {
      ...tasks,
      description: "Tasks not accepted because the runner was full.",
    }),
    skipped: meter.createObservableCounter("background_tasks.skipped", {
      ...tasks,
      description: "Accepted tasks that were never started.",
    }),
  };
  const all: Observable[] = [...Object.values(gauges), ...Object.values(totals)];
  const callback = (result: BatchObservableResult): void => {
    for (const entry of byName.values()) {
      for (const [key, instrument] of Object.entries(gauges)) {
        result.observe(instrument, entry[key as keyof typeof gauges], entry.attributes);
      }
      for (const [key, instrument] of Object.entries(totals)) {
        const value = entry[key as keyof typeof totals];
        if (value > 0) result.observe(instrument, value, entry.attributes);
      }
    }
  };
  meter.addBatchObservableCallback(callback, all);
  return () => meter.removeBatchObservableCallback(callback, all);
}

/** The attempt's span: a root span linked to the span active when the task was added. */
function _startSpan(tracer: Tracer, name: string, attempt: number, waitMs: number, added: Context): Span {
  const link = trace.getSpanContext(added);
  // Started from the empty context rather than with `root: true`, which would copy `added` per attempt,
  // unless tracing is suppressed there (the SDK then makes no span).
  const suppressed = added.getValue(_SUPPRESS_TRACING) === true;
  return tracer.startSpan(name, {
    root: suppressed,
    // A plain comparison: trace.isSpanContextValid runs two regular expressions per attempt.
    links: link === undefined || link.traceId === INVALID_TRACEID ? undefined : [{ context: link }],
    attributes: {
      "background_task.name": name,
      "background_task.attempt": attempt,
      "background_task.queue_wait_ms": waitMs,
    },
  }, suppressed ? added : ROOT_CONTEXT);
}

/** Ends an attempt: its duration, its running count and its span. */
function _end(
  histograms: _Histograms | undefined,
  entry: _ByName | undefined,
  started: number,
  span: Span | undefined,
  outcome: _Outcome,
  error: unknown,
): void {
  if (entry !== undefined) {
    entry.running--;
    histograms!.duration.record((performance.now() - started) / 1000, entry.outcomes[outcome]);
  }
  if (span !== undefined) _endSpan(span, outcome, error);
}

function _endSpan(span: Span, outcome: _Outcome, error: unknown): void {
  span.setAttribute("background_task.outcome", outcome);
  if (outcome !== "success") {
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
