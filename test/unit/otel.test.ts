// Spans, links, attributes and metrics of instrumentTasks, read back from the SDK's in-memory
// exporters; runs on Node, Bun and Deno.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { suppressTracing } from "@opentelemetry/core";
import { AlwaysOffSampler, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { getBackgroundTasks, TaskRunner, TaskTimeoutError, withBackgroundTasks } from "../../src/mod.ts";
import type { TaskContext } from "../../src/mod.ts";
import { instrumentTasks } from "../../src/otel.ts";

const spans = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const tracer = tracerProvider.getTracer("test");
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

before(() => void context.setGlobalContextManager(contextManager.enable()));
after(async () => {
  context.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});

async function taskSpans(name: string): Promise<ReadableSpan[]> {
  await tracerProvider.forceFlush(); // the span processor exports asynchronously
  return spans.getFinishedSpans().filter((span) => span.name === name);
}

/** Cumulative values of one metric, by data point attributes (tasks named metrics… only). */
async function metric(name: string): Promise<{ attributes: Record<string, unknown>; value: unknown }[]> {
  metricExporter.reset();
  await reader.forceFlush();
  const found = metricExporter.getMetrics().flatMap((resource) => resource.scopeMetrics).flatMap((scope) => scope.metrics)
    .filter((entry) => entry.descriptor.name === name);
  return found.flatMap((entry) =>
    entry.dataPoints.filter((point) => String(point.attributes["background_task.name"]).startsWith("metrics")).map((point) => ({
      attributes: point.attributes,
      value: entry.dataPointType === DataPointType.HISTOGRAM ? (point.value as { count: number }).count : point.value,
    }))
  );
}

describe("instrumentTasks", () => {
  it("a request's task: a span of its own, linked to the request's span, active while the task runs", async () => {
    spans.reset();
    const runner = new TaskRunner();
    const stop = instrumentTasks(runner, { tracerProvider, meterProvider });
    let inner: string | undefined;
    async function sendWelcomeEmail(this: TaskContext, _to: string): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 1));
      tracer.startActiveSpan("smtp", (span) => {
        inner = span.spanContext().spanId;
        span.end();
      });
    }
    const handler = withBackgroundTasks((request: Request) => {
      getBackgroundTasks(request).addTask(sendWelcomeEmail, "ada@example.com");
      return new Response("ok");
    }, { runner });
    const requestSpan = tracer.startSpan("POST /register");
    const response = await context.with(
      trace.setSpan(context.active(), requestSpan),
      () => handler(new Request("http://localhost/register")),
    );
    requestSpan.end(); // the request's span ends with its response, before the task runs
    await response.text();
    await runner.drain();
    const [span] = await taskSpans("sendWelcomeEmail");
    assert.ok(span, "the task has a span named after it");
    assert.notEqual(span.spanContext().traceId, requestSpan.spanContext().traceId, "not a child: a trace of its own");
    assert.equal(span.parentSpanContext, undefined);
    assert.deepEqual(span.links.map((link) => link.context.spanId), [requestSpan.spanContext().spanId]);
    assert.equal(span.links[0]!.context.traceId, requestSpan.spanContext().traceId);
    assert.equal(span.attributes["background_task.name"], "sendWelcomeEmail");
    assert.equal(span.attributes["background_task.attempt"], 1);
    assert.equal(span.attributes["background_task.outcome"], "success");
    assert.equal(typeof span.attributes["background_task.queue_wait_ms"], "number");
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    const [smtp] = await taskSpans("smtp");
    assert.equal(smtp?.spanContext().spanId, inner);
    assert.equal(smtp?.parentSpanContext?.spanId, span.spanContext().spanId, "the task's own spans are its children");
    stop();
  });

  it("a failure, a retry and a timeout: one span per attempt, the error recorded", async () => {
    spans.reset();
    const runner = new TaskRunner({ retries: 1, retryDelayMs: 0, onError: () => {} });
    const stop = instrumentTasks(runner, { tracerProvider, meterProvider });
    let calls = 0;
    runner.addTask(function flaky() {
      if (++calls === 1) throw new Error("first try fails");
    });
    runner.addTask(async function broken() {
      await Promise.resolve();
      throw new TypeError("always fails");
    });
    const fast = new TaskRunner({ timeoutMs: 10, onError: () => {} });
    const stopFast = instrumentTasks(fast, { tracerProvider, meterProvider: false });
    fast.addTask(function hangs(this: TaskContext) {
      return new Promise((resolve) => this.signal.addEventListener("abort", resolve));
    });
    await Promise.all([runner.drain(), fast.drain()]);
    const flaky = (await taskSpans("flaky")).sort((a, b) =>
      Number(a.attributes["background_task.attempt"]) - Number(b.attributes["background_task.attempt"])
    );
    assert.deepEqual(
      flaky.map((span) => [span.attributes["background_task.attempt"], span.attributes["background_task.outcome"], span.status.code]),
      [
        [1, "failure", SpanStatusCode.ERROR],
        [2, "success", SpanStatusCode.UNSET],
      ],
    );
    assert.equal(flaky[0]!.status.message, "first try fails");
    assert.equal(flaky[0]!.events[0]?.name, "exception");
    assert.equal(flaky[0]!.events[0]?.attributes?.["exception.message"], "first try fails");
    const broken = await taskSpans("broken");
    assert.deepEqual(broken.map((span) => span.attributes["background_task.outcome"]), ["failure", "failure"]);
    assert.equal(broken[0]!.events[0]?.attributes?.["exception.type"], "TypeError");
    const [hangs] = await taskSpans("hangs");
    assert.equal(hangs?.attributes["background_task.outcome"], "timeout");
    assert.equal(hangs?.status.code, SpanStatusCode.ERROR);
    assert.equal(hangs?.events[0]?.attributes?.["exception.type"], new TaskTimeoutError("hangs", 10).name);
    assert.equal(hangs?.links.length, 0, "added outside any span: no link");
    stop();
    stopFast();
  });

  it("a task added where tracing is suppressed gets no span; one whose attempt is sampled out passes that on", async () => {
    spans.reset();
    const runner = new TaskRunner();
    const stop = instrumentTasks(runner, { tracerProvider, meterProvider: false });
    context.with(suppressTracing(context.active()), () => runner.addTask(function quiet() {}));
    const unsampled = new TracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
    });
    const sampledOut = new TaskRunner();
    const stopSampledOut = instrumentTasks(sampledOut, { tracerProvider: unsampled, meterProvider: false });
    let innerSampled: boolean | undefined;
    sampledOut.addTask(function unseen() {
      // The task's own span follows its parent, the attempt's span, which was not sampled.
      const inner = tracer.startSpan("inner");
      innerSampled = inner.isRecording();
      inner.end();
    });
    await Promise.all([runner.drain(), sampledOut.drain()]);
    assert.deepEqual(await taskSpans("quiet"), []);
    assert.deepEqual(await taskSpans("unseen"), []);
    assert.equal(innerSampled, false);
    stop();
    stopSampledOut();
  });

  it("metrics per task name: counters, up-down counters and histograms", async () => {
    const runner = new TaskRunner({ concurrency: 1, maxPending: 3, overflow: "drop", retries: 1, retryDelayMs: 0, onError: () => {} });
    const stop = instrumentTasks(runner, { tracerProvider: false, meterProvider });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    runner.addTask(function metricsSlow() {
      return gate;
    });
    runner.addTask(function metricsFails() {
      throw new Error("no");
    });
    runner.addTask(function metricsOk() {});
    runner.addTask(function metricsDropped() {}); // past maxPending
    await Promise.resolve();
    const name = (value: string) => ({ "background_task.name": value });
    const nonZero = async (metricName: string) => (await metric(metricName)).filter((point) => point.value !== 0);
    assert.deepEqual(await nonZero("background_tasks.running"), [{ attributes: name("metricsSlow"), value: 1 }]);
    assert.deepEqual(
      (await nonZero("background_tasks.queued")).sort((a, b) =>
        String(a.attributes["background_task.name"]).localeCompare(String(b.attributes["background_task.name"]))
      ),
      [
        { attributes: name("metricsFails"), value: 1 },
        { attributes: name("metricsOk"), value: 1 },
      ],
    );
    release();
    await runner.drain();
    assert.deepEqual(await metric("background_tasks.succeeded"), [{ attributes: name("metricsSlow"), value: 1 }, {
      attributes: name("metricsOk"),
      value: 1,
    }]);
    assert.deepEqual(await metric("background_tasks.failed"), [{ attributes: name("metricsFails"), value: 1 }]);
    assert.deepEqual(await metric("background_tasks.retried"), [{ attributes: name("metricsFails"), value: 1 }]);
    assert.deepEqual(await metric("background_tasks.dropped"), [{ attributes: name("metricsDropped"), value: 1 }]);
    assert.ok((await metric("background_tasks.running")).every((point) => point.value === 0));
    assert.ok((await metric("background_tasks.queued")).every((point) => point.value === 0));
    const durations = await metric("background_tasks.duration");
    assert.deepEqual(
      durations.filter((point) => point.attributes["background_task.name"] === "metricsFails"),
      [{ attributes: { ...name("metricsFails"), "background_task.outcome": "failure" }, value: 2 }],
    );
    const waits = await metric("background_tasks.queue_wait");
    assert.equal(waits.find((point) => point.attributes["background_task.name"] === "metricsFails")?.value, 2, "one per attempt");
    stop();
  });

  it("refuses what is not a runner, and unknown options", () => {
    assert.throws(() => instrumentTasks({} as TaskRunner), /runner must be a TaskRunner/);
    assert.throws(() => instrumentTasks(new TaskRunner(), { tracer: 1 } as never), /unknown option "tracer"/);
  });
});
