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
  context,
  type Counter,
  type Histogram,
  type Link,
  type Meter,
  type MeterProvider,
  metrics,
  type Span,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
  type UpDownCounter,
} from "@opentelemetry/api";
import type { AcceptedTask } from "./types.ts";
import type { TaskRunner } from "./TaskRunner.ts";
import { TaskTimeoutError } from "./errors.ts";
import { _observe } from "./_observers.ts";

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

interface _Instruments {
  readonly queued: UpDownCounter;
  readonly running: UpDownCounter;
  readonly succeeded: Counter;
  readonly failed: Counter;
  readonly retried: Counter;
  readonly dropped: Counter;
  readonly skipped: Counter;
  readonly duration: Histogram;
  readonly queueWait: Histogram;
}

/**
 * Traces each attempt of `runner`'s tasks and records its metrics, from now
 * on. Call it once per runner (each call adds its own spans and counts).
 * Works for in-process runners and for the web side of a durable runner
 * (there an attempt is the hand-over to the queue; for the worker side see
 * docs/observability.md).
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
  const tracer = tracerProvider === false ? undefined : (tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const meter = meterProvider === false ? undefined : (meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  const instruments = meter === undefined ? undefined : _createInstruments(meter);
  const queuedAt = new WeakMap<AcceptedTask, number>();

  const stopObserving = _observe(runner, {
    queued(task) {
      queuedAt.set(task, performance.now());
      instruments?.queued.add(1, _nameAttributes(task.name));
    },
    attempt(task, attempt) {
      const started = performance.now();
      const since = queuedAt.get(task);
      const waitMs = since === undefined ? 0 : started - since;
      const attributes = _nameAttributes(task.name);
      if (instruments !== undefined) {
        instruments.queued.add(-1, attributes);
        instruments.running.add(1, attributes);
        instruments.queueWait.record(waitMs / 1000, attributes);
      }
      const span = tracer === undefined ? undefined : _startSpan(tracer, task, waitMs);
      let ended = false;
      const end = (error: unknown, failed: boolean): void => {
        if (ended) return;
        ended = true;
        const outcome = !failed ? "success" : error instanceof TaskTimeoutError ? "timeout" : "failure";
        if (instruments !== undefined) {
          instruments.running.add(-1, attributes);
          instruments.duration.record((performance.now() - started) / 1000, { ...attributes, "background_task.outcome": outcome });
        }
        if (span !== undefined) _endSpan(span, outcome, error, failed);
      };
      let result: unknown;
      try {
        result = span === undefined ? attempt() : context.with(trace.setSpan(context.active(), span), attempt);
      } catch (error) {
        end(error, true);
        throw error;
      }
      if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
        (result as PromiseLike<unknown>).then(() => end(undefined, false), (error: unknown) => end(error, true));
        // The runner gives up on an attempt that times out; its span ends then, not when the work does.
        const signal = task.signal;
        signal.addEventListener("abort", () => {
          if (signal.reason instanceof TaskTimeoutError) end(signal.reason, true);
        }, { once: true });
      } else end(undefined, false);
      return result;
    },
  });

  const unsubscribe = instruments === undefined ? [] : [
    runner.on("success", (task) => instruments.succeeded.add(1, _nameAttributes(task.name))),
    runner.on("failure", (_error, info) => instruments.failed.add(1, _nameAttributes(info.name))),
    runner.on("retry", (_error, info) => instruments.retried.add(1, _nameAttributes(info.name))),
    runner.on("drop", (task) => instruments.dropped.add(1, _nameAttributes(task.name))),
    runner.on("skip", (task) => instruments.skipped.add(1, _nameAttributes(task.name))),
  ];
  return () => {
    stopObserving();
    for (const off of unsubscribe) off();
  };
}

function _nameAttributes(name: string): Attributes {
  return { "background_task.name": name };
}

// Seconds, from a millisecond to a minute (the API's default buckets suit milliseconds).
const _SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function _createInstruments(meter: Meter): _Instruments {
  const tasks = { unit: "{task}" };
  const seconds = { unit: "s", advice: { explicitBucketBoundaries: _SECONDS } };
  return {
    queued: meter.createUpDownCounter("background_tasks.queued", { ...tasks, description: "Tasks ready to run, waiting for a free slot." }),
    running: meter.createUpDownCounter("background_tasks.running", { ...tasks, description: "Attempts running now." }),
    succeeded: meter.createCounter("background_tasks.succeeded", { ...tasks, description: "Tasks that finished without error." }),
    failed: meter.createCounter("background_tasks.failed", { ...tasks, description: "Tasks that failed after their last attempt." }),
    retried: meter.createCounter("background_tasks.retried", {
      ...tasks,
      description: "Retries scheduled after a failed or timed-out attempt.",
    }),
    dropped: meter.createCounter("background_tasks.dropped", { ...tasks, description: "Tasks not accepted because the runner was full." }),
    skipped: meter.createCounter("background_tasks.skipped", { ...tasks, description: "Accepted tasks that were never started." }),
    duration: meter.createHistogram("background_tasks.duration", { ...seconds, description: "How long an attempt ran." }),
    queueWait: meter.createHistogram("background_tasks.queue_wait", {
      ...seconds,
      description: "How long an attempt waited in the run queue (after its response was sent, or its retry delay).",
    }),
  };
}

function _startSpan(tracer: Tracer, task: AcceptedTask, waitMs: number): Span {
  // Inside the attempt, the active context is the one the task was added in (the request's).
  const added = trace.getSpanContext(context.active());
  const links: Link[] = added === undefined || !trace.isSpanContextValid(added) ? [] : [{ context: added }];
  return tracer.startSpan(task.name, {
    root: true,
    links,
    attributes: {
      "background_task.name": task.name,
      "background_task.attempt": task.attempt,
      "background_task.queue_wait_ms": waitMs,
    },
  });
}

function _endSpan(span: Span, outcome: string, error: unknown, failed: boolean): void {
  span.setAttribute("background_task.outcome", outcome);
  if (failed) {
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
